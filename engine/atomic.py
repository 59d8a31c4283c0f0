"""The one way Topdown writes a file it keeps: a temporary file beside the target, flushed to
disk, then renamed over the target, so a crash leaves the old file or the new one, never half.

When the write fails the temporary file is removed before the error goes up, and a refusing disk
(full, read-only, no permission, I/O error; also when torch or numpy only say "unexpected pos")
becomes the project's `StorageError`, naming the folder and the remedy. Temporary names carry
the writing process's id (`.NAME.PID.THREAD.tmp`), so `engine.project.sweep` can tell the
leftovers of a killed process from a write still going on. Never imports Qt or torch.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from engine.errors import storage_errno, storage_error

# .NAME.PID.tmp or .NAME.PID.THREAD.tmp (also the older .NAME.tmp.npz of the evaluation masks)
TEMP_NAME = re.compile(r"^\.(?P<name>.+?)\.(?P<pid>\d+)(?:\.\d+)?\.tmp$")


def temp_path(path: Path) -> Path:
    """The temporary name a write of `path` by this process and thread goes to."""
    return path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def temp_pid(name: str) -> int | None:
    """The process id in a temporary file's name (see TEMP_NAME), or None if it is not one."""
    m = TEMP_NAME.match(name)
    return int(m["pid"]) if m else None


def write_file(
    path: str | os.PathLike,
    fill: Callable[[BinaryIO], object],
    *,
    doing: str = "",
    durable: bool = True,
) -> Path:
    """Write `path` atomically: `fill(f)` writes the content to an open binary file. `doing`
    names the work in a failure message ("saving the model best.pt"); `durable` fsyncs before
    the rename (off for disposable caches). StorageError, with the old file untouched and no
    temporary file left, when the disk refuses; any other error is re-raised as it is."""

    def fill_path(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            fill(f)
            f.flush()
            if durable:
                os.fsync(f.fileno())

    return write_path(path, fill_path, doing=doing, durable=False)


def write_path(
    path: str | os.PathLike,
    fill: Callable[[Path], object],
    *,
    doing: str = "",
    durable: bool = True,
) -> Path:
    """As `write_file`, for writers that want a file name (an exporter, sqlite): `fill(tmp)`
    writes the temporary file `tmp`."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        fill(tmp)
        if durable:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        discard(tmp)
        err = as_storage_error(e, path, doing)
        if err is e:
            raise
        raise err from e
    return path


def write_text(path: str | os.PathLike, text: str, *, doing: str = "") -> Path:
    """A text file (UTF-8), atomically (see write_file)."""
    data = text.encode("utf-8")
    return write_file(path, lambda f: f.write(data), doing=doing)


def copy_file(src: str | os.PathLike, dest: str | os.PathLike, *, doing: str = "") -> Path:
    """`dest` becomes a copy of `src`, atomically (see write_file)."""

    def fill(f: BinaryIO) -> None:
        with open(src, "rb") as s:
            shutil.copyfileobj(s, f, 1 << 20)

    return write_file(dest, fill, doing=doing)


def as_storage_error(e: BaseException, path: Path, doing: str = "") -> BaseException:
    """`e` as the StorageError it stands for (a refusing disk), else `e` itself."""
    from engine.errors import StorageError

    if isinstance(e, StorageError) or not isinstance(e, Exception):
        return e
    code = storage_errno(e)
    if not code and isinstance(e, RuntimeError):  # torch's short write: "unexpected pos"
        code = low_space(path.parent)
    if not (isinstance(e, OSError) or code):
        return e
    return storage_error(
        e if isinstance(e, OSError) else None,
        path.parent,
        doing or f"saving {path.name}",
        code=code,
    )


def discard(tmp: Path) -> None:
    """Remove a temporary file if it is there; never fails."""
    try:
        os.unlink(tmp)
    except OSError:
        pass


def low_space(folder: Path, margin: int = 64 << 20) -> str:
    """ENOSPC when `folder`'s disk has under `margin` bytes free, else ''."""
    try:
        return "ENOSPC" if shutil.disk_usage(folder).free < margin else ""
    except OSError:
        return ""

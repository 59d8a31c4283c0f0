"""One job of a kind per project at a time, across processes: a lock file in the project
(``PROJECT/models/.train.lock`` for training, ``PROJECT/.import.lock`` for an import) created
atomically (O_CREAT|O_EXCL) and holding who took it (process id, host, start time, command).
It is removed when the job ends; a lock left by a process that died (same host, process gone)
is taken over, so a crash never blocks the project for good. The second comer gets an error
naming the holder and since when.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from engine.errors import EngineError, ProjectError

LOCK_FILES = {"training": "models/.train.lock", "import": ".import.lock"}
_UNREADABLE_GRACE_S = 10.0  # a lock file still empty after this long was left half-written


def pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this computer."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OSError, OverflowError, ValueError):
        return False
    return True


@dataclass(frozen=True)
class LockHolder:
    """Who holds a project lock."""

    pid: int
    host: str
    since: float  # time.time() when taken
    command: str
    token: str = ""  # tells this holder's file from a later one of the same process

    def alive(self) -> bool | None:
        """Whether the holding process still runs; None when it is on another host."""
        if self.host != socket.gethostname():
            return None
        return pid_alive(self.pid)

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"process {self.pid} on {self.host}, since {when} ({self.command})"


def read_holder(path: Path) -> LockHolder | None:
    """The holder written in a lock file, or None when it cannot be read (gone, half-written)."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(
            pid=int(d["pid"]),
            host=str(d["host"]),
            since=float(d["since"]),
            command=str(d.get("command", "")),
            token=str(d.get("token", "")),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _is_stale(path: Path, holder: LockHolder | None) -> bool:
    if holder is None:  # being written right now, or left half-written by a crash
        try:
            return time.time() - path.stat().st_mtime > _UNREADABLE_GRACE_S
        except OSError:
            return True  # gone meanwhile: try again
    return holder.alive() is False


def _take_over(path: Path, holder: LockHolder | None) -> None:
    """Move a stale lock aside atomically (only one of several comers can) and drop it; if what
    was moved is not the stale lock judged (another comer took over first), put it back."""
    aside = path.with_name(f"{path.name}.stale.{os.getpid()}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return
    if read_holder(aside) != holder:
        try:
            os.link(aside, path)
        except OSError:
            pass
    aside.unlink(missing_ok=True)


def _create(path: Path, me: LockHolder) -> bool:
    """Write the lock file if there is none; False when one exists."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    try:
        os.write(fd, json.dumps(asdict(me)).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


@contextmanager
def project_lock(
    project_path: str | os.PathLike, kind: str = "training", error: type[EngineError] = ProjectError
) -> Iterator[LockHolder]:
    """Hold the project's `kind` lock for the body of the with-block; raise `error` naming the
    holder when another live process (or another job of this one) holds it."""
    path = Path(project_path) / LOCK_FILES[kind]
    me = _me()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(5):
            if _create(path, me):
                break
            holder = read_holder(path)
            if not _is_stale(path, holder):
                who = holder.describe() if holder else "a process that is starting"
                raise error(
                    f"Another {kind} is running on this project: {who}. Wait for it to end or "
                    f"stop it; if that process is gone for good, delete {path}."
                )
            _take_over(path, holder)
        else:
            raise error(f"Cannot take the {kind} lock {path}: other processes keep taking it.")
    except OSError as e:
        raise error(
            f"Cannot create the {kind} lock {path}: {e.strerror or e}. "
            "Check that the project folder is writable."
        ) from e
    try:
        yield me
    finally:
        if read_holder(path) == me:
            path.unlink(missing_ok=True)


# ----------------------------------------------------------------- who has the project open
OPEN_DIR = ".open"  # one file per process that has the project open for changes


def mark_open(project_path: str | os.PathLike) -> Path | None:
    """Record that this process has the project open (PROJECT/.open/<pid>.<token>.json, with
    who and since when), so that `restore` can refuse while it is; None when it cannot be
    written (the project then opens all the same)."""
    folder = Path(project_path) / OPEN_DIR
    me = _me()
    path = folder / f"{me.pid}.{me.token}.json"
    try:
        folder.mkdir(exist_ok=True)
        if not _create(path, me):
            return None
    except OSError:
        return None
    return path


def unmark_open(mark: Path | None) -> None:
    if mark is not None:
        try:
            mark.unlink(missing_ok=True)
        except OSError:
            pass


def open_elsewhere(project_path: str | os.PathLike) -> list[LockHolder]:
    """The processes that have the project open for changes (this one included); marks left
    by processes that are gone are removed."""
    folder = Path(project_path) / OPEN_DIR
    try:
        files = sorted(folder.glob("*.json"))
    except OSError:
        return []
    found = []
    for f in files:
        holder = read_holder(f)
        if holder is not None and holder.alive() is False:
            unmark_open(f)
        elif holder is not None or not _is_stale(f, holder):
            found.append(holder or LockHolder(0, "?", time.time(), "starting"))
    return found


def _me() -> LockHolder:
    return LockHolder(
        pid=os.getpid(),
        host=socket.gethostname(),
        since=time.time(),
        command=" ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200] if sys.argv else "",
        token=os.urandom(8).hex(),
    )

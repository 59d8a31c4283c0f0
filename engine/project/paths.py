"""Paths read back from a project's own files, checked before anything reads, writes or
deletes through them.

A project stores every path relative to its folder (image and mask rows in project.db, run ids
under models/runs/). A damaged or hostile file can name `../victim/x.png`, an absolute path, or
a symlink out of the folder; `inside` is the one check every reader of such a path goes through,
so no row can make Topdown read, overwrite or delete a file outside the project. Never imports
Qt or torch.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

from engine.errors import ProjectError, shown
from engine.imaging import BadImage


class OutsideProjectError(ProjectError, BadImage):
    """A path stored in a project names something outside the project folder (or no file at
    all); nothing was read, written or deleted through it. Also a BadImage, so a job that skips
    unusable images (training, the check, thumbnails) skips this one and says why."""

    def __init__(self, message: str, rel: str = ""):
        Exception.__init__(self, message)
        self.path, self.reason = rel, message


def _lexical_problem(rel: object) -> str:
    """Why `rel` cannot be a path inside a folder, judged from its text alone; '' if it can."""
    if not isinstance(rel, str) or not rel.strip():
        return "it is empty or not a path"
    if "\x00" in rel:
        return "it holds a NUL character"
    posix, win = PurePosixPath(rel), PureWindowsPath(rel)
    if posix.is_absolute() or win.drive or win.root:
        return "it is an absolute path"
    if ".." in posix.parts or ".." in win.parts:
        return "it climbs out of the folder with '..'"
    return ""


def inside(root: str | os.PathLike, rel: object, what: str, *, file: str = "project.db") -> Path:
    """`root / rel` when `rel` (read from the project file `file`, e.g. as `what` = "image 7
    (cat.png)") names a place inside `root`, following symlinks; else OutsideProjectError
    naming the row. Whether the file exists is left to the caller."""
    root = Path(root)
    why = _lexical_problem(rel)
    if not why:
        target = root / str(rel)
        real_root = os.path.realpath(root)
        real = os.path.realpath(target)
        if real == real_root or not real.startswith(real_root.rstrip(os.sep) + os.sep):
            why = "it leads out of the folder through a symbolic link"
        else:
            return target
    raise OutsideProjectError(
        f"{what} in {shown(root / file)}: its stored path '{shown(str(rel))}' was refused: "
        f"{why}; Topdown reads and writes only inside {shown(root)}. The file was not touched.",
        str(rel),
    )


def name_component(root: str | os.PathLike, name: object, what: str, *, file: str) -> Path:
    """`root / name` for a name that must be one entry of `root` (a run id), else
    OutsideProjectError."""
    if isinstance(name, str) and ("/" in name or "\\" in name or name in (".", "..")):
        raise OutsideProjectError(
            f"{what} {shown(name)} was refused: it must be a name inside {shown(root)}, "
            f"not a path ({file}).",
            name,
        )
    return inside(root, name, what, file=file)

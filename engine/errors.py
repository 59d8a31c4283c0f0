"""The errors the engine raises for people to read, in one place.

Each message names the file or setting at fault and says what to do; the CLI prints it on one
line, the GUI shows it as it is. They keep their older built-in bases (ValueError,
RuntimeError) so code that caught those still does. Per-file problems met during a job
(`engine.imaging.BadImage`) and cancellation (`engine.control.Cancelled`) are not failures of
the job and live with the code that raises them.
"""

from __future__ import annotations

import re


class EngineError(Exception):
    """Base of the engine's errors: the message is meant for the user."""


class ProjectError(EngineError):
    """A project cannot be created, opened or changed; the message says why."""


class NewerVersionError(ProjectError):
    """The project was written by a newer Topdown than this one."""


class TrainingError(EngineError):
    """Training cannot start or go on (no labels, empty split, bad mask, ...); says what to fix."""


class DivergedError(TrainingError):
    """The loss became NaN or infinite."""


class WeightsError(EngineError, ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


class WeightsUnavailable(WeightsError):
    """Pretrained weights are not cached and cannot be downloaded (e.g. offline)."""


class ModelFileError(EngineError, ValueError):
    """A model file or project that cannot be used for prediction; names the path."""


class DeviceError(EngineError, RuntimeError):
    """The asked-for device is not available on this computer."""


class DamagedProjectError(ProjectError):
    """The project's database is damaged or missing; `path` is the project folder, which
    `engine.project.backup.restore` can repair from a backup."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path


class StorageError(ProjectError):
    """Saving to disk failed (disk full, no permission, read-only or failing disk): names the
    folder and the remedy. Everything saved before the failure is kept."""


_REMEDY = {
    "ENOSPC": "the disk is full: free disk space on {where} and retry",
    "EDQUOT": "the disk quota is used up: free disk space on {where} and retry",
    "EACCES": "permission denied: make {where} writable (or choose another folder) and retry",
    "EPERM": "permission denied: make {where} writable (or choose another folder) and retry",
    "EROFS": "{where} is on a read-only disk: copy the project to a writable disk and retry",
    "EIO": "the disk reported an I/O error: check the disk holding {where} (it may be failing "
    "or was unplugged) and retry",
}


def storage_error(e: OSError | None, where: object, doing: str, *, code: str = "") -> StorageError:
    """The StorageError for an OSError met while `doing` (e.g. "saving the model") in the folder
    `where`: one sentence on what failed and what to do. `code` (an errno name) stands in when
    the failure came without an OSError (e.g. from torch or sqlite)."""
    import errno as _errno

    name = code or (_errno.errorcode.get(e.errno, "") if e is not None and e.errno else "")
    remedy = _REMEDY.get(name)
    if remedy is None:
        why = (e.strerror or str(e)) if e is not None else "unknown error"
        return StorageError(f"Cannot finish {doing} in {where} ({why}); check the disk and retry.")
    return StorageError(f"Failed {doing} in {where}: {remedy.format(where=where)}.")


def storage_errno(e: BaseException) -> str:
    """The errno name behind a write failure that may come wrapped (torch, sqlite): ENOSPC for a
    full disk, ''  when it cannot be told."""
    import errno as _errno

    if isinstance(e, OSError) and e.errno:
        return _errno.errorcode.get(e.errno, "")
    text = str(e).lower()
    for needle, name in (
        ("no space left", "ENOSPC"),
        ("database or disk is full", "ENOSPC"),
        ("unexpected pos", "ENOSPC"),  # torch's zip writer when a write came up short
        ("file write failed", "ENOSPC"),
        ("disk quota", "EDQUOT"),
        ("read-only file system", "EROFS"),
        ("readonly database", "EROFS"),
        ("permission denied", "EACCES"),
        ("disk i/o error", "EIO"),
        ("input/output error", "EIO"),
    ):
        if needle in text:
            return name
    return ""


def load_refusal(path: object, e: BaseException, kind: str = "model file") -> str:
    """Why torch.load(weights_only=True) refused `path`, in words for a person: a file holding
    Python objects (that could run code when loaded) is said to be refused for that reason,
    never with torch's hint to load it unrestricted; other failures keep torch's first line."""
    text = str(e)
    if "weights only load failed" in text.lower() or "unpickl" in type(e).__name__.lower():
        return (
            f"{shown(path)} was refused: it holds Python objects beside the weights, and "
            "loading those could run code on this computer, so Topdown does not open it. "
            f"Use a {kind} that holds only weights (a Topdown model, or a state dict)."
        )
    first = (text.strip().splitlines() or [type(e).__name__])[0]
    return f"{shown(path)} is not a readable {kind} ({shown(first)})"


def shown(text: object) -> str:
    """`text` (a file name, a path) safe to print on one line: control and format characters
    (a newline in a name, an escape sequence, a right-to-left override) and undecodable bytes
    are written as escapes (\\n, \\x1b, \\u202e, \\udcff); everything else as it is."""
    s = str(text)
    if _UNSAFE.search(s) is None:
        return s
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), s)


# C0/C1 controls, bidi and other invisible format marks, lone surrogates (undecodable bytes)
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)

"""What an interrupted import leaves, and how the project clears it on open.

An import (engine.imports.pipeline) copies each file into ``images/`` (and its mask into
``masks/``) under a temporary name starting with `TEMP_PREFIX`; per batch it renames the copies
to their final names and then commits their rows in one transaction. While it runs, the meta
key `PENDING_KEY` holds its split settings. So a process killed at any moment leaves at most:

- temporary copies (killed while copying): always deleted on open;
- final-named copies without a row (killed between rename and commit): moved to
  ``trash/<key>/`` (deleted after a day, engine.project.removal.purge_stale);
- committed rows whose split was never assigned: assigned with the import's settings.

`recover` does this when the import lock (engine.project.locks) is free: an import running in
another process is never disturbed. Only regular files directly in the project's ``images/``
and ``masks/`` are touched, never anything outside the project folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from engine.errors import ProjectError
from engine.project.locks import LOCK_FILES, project_lock

TEMP_PREFIX = ".importing-"  # images/.importing-<pid>-<n>.jpg while being copied
PENDING_KEY = "import_in_progress"  # meta: JSON split settings of a running import
TRASH_DIR = "trash"


def temp_name(ext: str, n: int) -> str:
    """A temporary copy's name in images/ or masks/ (unique per process and file)."""
    return f"{TEMP_PREFIX}{os.getpid()}-{n}{ext.lower()}"


def begin(project, split: dict) -> None:
    """Mark an import as running (its split settings, for `recover` after a crash)."""
    with project._lock, project._db:
        project._db.execute(
            "INSERT OR REPLACE INTO meta VALUES (?, ?)", (PENDING_KEY, json.dumps(split))
        )


def end(project) -> None:
    """The import finished (or failed cleanly): nothing to recover."""
    with project._lock, project._db:
        project._db.execute("DELETE FROM meta WHERE key=?", (PENDING_KEY,))


def recover(project) -> list[str]:
    """Clear what an interrupted import left (module docstring); sentences saying what was
    done, empty when there was nothing. Skipped while another process holds the import lock;
    costs one query when no import was interrupted (the marker is set before any copy)."""
    with project._lock:
        row = project._db.execute("SELECT 1 FROM meta WHERE key=?", (PENDING_KEY,)).fetchone()
    if row is None:
        return []
    stack = contextlib.ExitStack()
    with stack:
        try:
            stack.enter_context(project_lock(project.path, "import"))
        except ProjectError:
            if (project.path / LOCK_FILES["import"]).exists():
                return []  # an import is running (here or elsewhere): its files are not orphans
            # the lock cannot be written (disk full): nobody imports, clearing is safe
        return _recover(project)


def _recover(project) -> list[str]:
    notes = []
    with project._lock:
        row = project._db.execute("SELECT value FROM meta WHERE key=?", (PENDING_KEY,)).fetchone()
        known = {f for (f,) in project._db.execute("SELECT file FROM images")}
        known |= {
            m for (m,) in project._db.execute("SELECT mask FROM images WHERE mask IS NOT NULL")
        }
    if row is None:  # finished while we took the lock
        return notes
    temps, orphans = _sweep(project.path, known)
    if temps:
        notes.append(
            f"Deleted {temps} partly imported file{'s' if temps != 1 else ''} left by an "
            "interrupted import."
        )
    if orphans:
        n = len(orphans)
        notes.append(
            f"Moved {n} file{'s' if n != 1 else ''} that an interrupted import copied but never "
            f"recorded to {orphans[0].parent.parent} (deleted after a day); import the same "
            "folder again to bring them in."
        )
    try:
        split = json.loads(row[0])
    except ValueError:
        split = {}
    todo = project._db.execute("SELECT COUNT(*) FROM images WHERE split_locked=0").fetchone()
    project.assign_splits(
        valid_pct=float(split.get("valid_pct", 0.2)),
        test_pct=float(split.get("test_pct", 0.0)),
        seed=int(split.get("seed", 42)),
    )
    end(project)
    if todo[0]:
        notes.append(
            f"Assigned train/valid/test splits to the {todo[0]} images an interrupted "
            "import had recorded."
        )
    return notes


def _sweep(path: Path, known: set[str]) -> tuple[int, list[Path]]:
    """Delete temporary copies, move files with no row to the trash."""
    temps, moved = 0, []
    trash = path / TRASH_DIR / f"{time.time_ns()}-{os.getpid()}-interrupted-import"
    for sub in ("images", "masks"):
        try:
            entries = list(os.scandir(path / sub))
        except OSError:
            continue
        for e in entries:
            try:
                if not e.is_file(follow_symlinks=False):
                    continue
                if e.name.startswith(TEMP_PREFIX):
                    os.unlink(e.path)
                    temps += not e.name.endswith(".reserve")  # the import's disk reserve
                elif not e.name.startswith(".") and f"{sub}/{e.name}" not in known:
                    (trash / sub).mkdir(parents=True, exist_ok=True)
                    os.replace(e.path, trash / sub / e.name)
                    moved.append(trash / sub / e.name)
            except OSError:
                continue  # left for the next open
    return temps, moved

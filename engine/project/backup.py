"""Rolling backups of a project's database, and restoring one when project.db is damaged.

A backup is a copy made with SQLite's online backup API (a consistent snapshot, even while the
project is open) into ``PROJECT/.backup/``: first under a temporary name, checked with
``PRAGMA quick_check``, then renamed, so a backup file is always whole and readable. The newest
`KEEP` are kept. `engine.project.store.Project` takes one on open (at most every `EVERY_S`
seconds), after every `EVERY_CHANGES` changes or `EVERY_S` seconds of changes, and on close
after changes; never for a read-only project. `restore` puts the newest good backup in place of
a damaged project.db, which is moved aside (kept), never overwritten. Never imports Qt.
"""

from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from engine.errors import ProjectError
from engine.project.records import DB_FILE

BACKUP_DIR = ".backup"
KEEP = 3  # backups kept, newest first
EVERY_CHANGES = 100  # a backup after this many changes ...
EVERY_S = 300.0  # ... or this long after the last one, when something changed
_PREFIX = f"{DB_FILE}."
_STAMP = "%Y%m%dT%H%M%S.%fZ"  # UTC, sorts by time
log = logging.getLogger(__name__)


class DamagedCopy(Exception):
    """The copy of an open database failed its check: the database itself is damaged."""


@dataclass(frozen=True)
class Backup:
    """One backup file and when it was taken (seconds since the epoch)."""

    file: Path
    taken: float

    def when(self) -> str:
        """Local date and time, to the minute."""
        return datetime.fromtimestamp(self.taken).strftime("%Y-%m-%d %H:%M")

    def age(self, now: float | None = None) -> str:
        """How old, in words ("3 minutes old")."""
        s = max(0.0, (time.time() if now is None else now) - self.taken)
        for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
            if s >= size:
                n = int(s // size)
                return f"{n} {unit}{'s' if n != 1 else ''} old"
        return "less than a minute old"


@dataclass(frozen=True)
class Restored:
    """What `restore` did: the backup put in place, and where the damaged file was kept."""

    backup: Backup
    kept: Path | None  # None when there was no project.db to move aside


def backups(path: Path) -> list[Backup]:
    """The project's backups, newest first (files with other names are ignored)."""
    folder = Path(path) / BACKUP_DIR
    found = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    for f in entries:
        if not f.name.startswith(_PREFIX) or not f.is_file():
            continue
        try:
            stamp = datetime.strptime(f.name[len(_PREFIX) :], _STAMP)
        except ValueError:
            continue
        found.append(Backup(f, stamp.replace(tzinfo=UTC).timestamp()))
    return sorted(found, key=lambda b: b.taken, reverse=True)


def newest_good(path: Path) -> Backup | None:
    """The newest backup that opens and passes its check, or None."""
    return next((b for b in backups(path) if _healthy(b.file)), None)


def take(db: sqlite3.Connection, path: Path) -> Backup:
    """Copy the open database `db` of the project at `path` into a new backup and drop the
    oldest beyond `KEEP`. OSError/sqlite3.Error when it cannot be written; DamagedCopy (and
    nothing replaced) when the copy fails its check. The caller holds the project's lock."""
    folder = Path(path) / BACKUP_DIR
    folder.mkdir(exist_ok=True)
    now = time.time()
    final = folder / (_PREFIX + datetime.fromtimestamp(now, UTC).strftime(_STAMP))
    tmp = folder / f".{final.name}.{os.getpid()}.tmp"
    try:
        target = sqlite3.connect(tmp)
        try:
            db.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            ok = target.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            target.close()
        if not ok:
            raise DamagedCopy(f"the copy of {Path(path) / DB_FILE} failed its check")
        _fsync(tmp)
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)
    for old in backups(path)[KEEP:]:
        old.file.unlink(missing_ok=True)
    return Backup(final, now)


class Schedule:
    """When an open, writable project takes its backups: on open when the newest is older
    than EVERY_S, after EVERY_CHANGES changes or EVERY_S seconds of changes, and on close
    after any change. A backup that cannot be written is logged, never fails the change that
    asked for it. The caller holds the project's lock."""

    def __init__(self) -> None:
        self.changes = 0
        self.last = time.time()  # a new project's first backup is taken on close

    def on_open(self, db: sqlite3.Connection, path: Path) -> None:
        """DamagedCopy when the database copies but fails its check."""
        newest = backups(path)[:1]
        self.last = newest[0].taken if newest else 0.0
        if time.time() - self.last >= EVERY_S:
            self._take(db, path, raise_damaged=True)

    def on_change(self, db: sqlite3.Connection, path: Path) -> None:
        self.changes += 1
        if self.changes >= EVERY_CHANGES or time.time() - self.last >= EVERY_S:
            self._take(db, path)

    def on_close(self, db: sqlite3.Connection, path: Path) -> None:
        if self.changes:
            self._take(db, path)

    def _take(self, db: sqlite3.Connection, path: Path, raise_damaged: bool = False) -> None:
        if db.in_transaction:  # only committed changes go into a backup: the next call takes it
            return
        try:
            self.last = take(db, path).taken
            self.changes = 0
        except DamagedCopy:
            if raise_damaged:
                raise
            log.warning("No backup of %s: its copy failed the check", Path(path) / DB_FILE)
        except (OSError, sqlite3.Error) as e:
            log.warning("No backup of %s: %s", Path(path) / DB_FILE, e)


def _fsync(file: Path) -> None:
    with open(file, "rb") as f:
        os.fsync(f.fileno())


def _healthy(file: Path) -> bool:
    """Whether a database file (with its -wal) opens, holds a project's tables and passes
    quick_check; read without changing it."""
    try:
        db = sqlite3.connect(file.resolve().as_uri() + "?mode=ro", uri=True)
    except sqlite3.Error:
        return False
    try:
        db.execute("SELECT COUNT(*) FROM meta").fetchone()
        return db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
    except sqlite3.Error:
        return False
    finally:
        db.close()


def restore(path: Path) -> Restored:
    """Replace a damaged (or missing) project.db with the newest good backup. The damaged file
    and its -wal/-shm are moved aside as ``project.db.damaged-<time>``, never overwritten.
    ProjectError when the database is not damaged, there is no usable backup, or the folder
    cannot be written."""
    path = Path(path)
    db_file = path / DB_FILE
    if not (path / "project.json").is_file():
        raise ProjectError(f"{path} is not a Topdown project (no project.json).")
    if db_file.exists() and _healthy(db_file):
        raise ProjectError(f"{db_file} is not damaged; nothing was restored.")
    good = newest_good(path)
    if good is None:
        raise ProjectError(
            f"{db_file} is damaged and there is no usable backup in {path / BACKUP_DIR}. "
            "Make a new project and import the images again."
        )
    _refuse_while_open(path)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    kept = path / f"{DB_FILE}.damaged-{stamp}"
    tmp = path / f".{DB_FILE}.restoring.{os.getpid()}.tmp"
    try:  # the copy first: if it fails, the damaged file is still where it was
        shutil.copyfile(good.file, tmp)
        _fsync(tmp)
        moved = False
        for suffix in ("", "-wal", "-shm"):  # a stale WAL must not be replayed onto the backup
            if Path(f"{db_file}{suffix}").exists():
                os.replace(f"{db_file}{suffix}", f"{kept}{suffix}")
                moved = moved or suffix == ""
        os.replace(tmp, db_file)
    except OSError as e:
        raise ProjectError(f"Cannot restore {db_file} from {good.file}: {e.strerror or e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return Restored(good, kept if moved else None)


def _refuse_while_open(path: Path) -> None:
    """ProjectError naming who has the project open: a process holding the database would go
    on writing into the damaged file once it is moved aside, and report success."""
    from engine.project.locks import open_elsewhere

    holders = open_elsewhere(path)
    if holders:
        who = "; ".join(h.describe() for h in holders[:3])
        raise ProjectError(
            f"{path} is open in another window or process ({who}). Close it there first, then "
            "restore; nothing was changed."
        )


def offer(path: Path) -> str:
    """A sentence offering the newest good backup of a damaged project, or ""."""
    good = newest_good(path)
    if good is None:
        return ""
    return (
        f" A backup from {good.when()} ({good.age()}) can be restored with "
        f"`topdown-cli restore {path}` (the damaged file is kept)."
    )

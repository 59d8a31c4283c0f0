"""The files of a project folder: project.json (meta) and the SQLite schema of project.db.

`create_folder` makes a new project on disk, `read_meta` checks and reads an existing one,
`connect` opens its database, `backfill_mask_labels` migrates segmentation projects made
before the labels table listed each mask's classes. Used by `engine.project.store.Project`.
Never imports Qt or torch.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from engine.errors import DamagedProjectError, NewerVersionError, ProjectError, shown
from engine.project import backup as project_backup
from engine.project.dbguard import GuardedConnection
from engine.project.records import (
    DB_FILE,
    FORMAT,
    MASK_LABELS_KEY,
    PROJECT_FILE,
    SCHEMA_VERSION,
    TASKS,
    atomic_write_text,
)

SUBFOLDERS = ("images", "masks", "thumbs", "models")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS classes (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, color TEXT NOT NULL,
    position INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY, file TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '', sha1 TEXT NOT NULL, width INTEGER NOT NULL,
    height INTEGER NOT NULL, split TEXT NOT NULL DEFAULT 'train',
    split_locked INTEGER NOT NULL DEFAULT 0, mask TEXT, vals TEXT, added REAL NOT NULL);
CREATE INDEX IF NOT EXISTS images_sha1 ON images(sha1);
CREATE INDEX IF NOT EXISTS images_split ON images(split);
CREATE TABLE IF NOT EXISTS labels (
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES classes(id) ON DELETE CASCADE,
    PRIMARY KEY (image_id, class_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS labels_class ON labels(class_id, image_id);
CREATE TABLE IF NOT EXISTS skipped (
    id INTEGER PRIMARY KEY, path TEXT NOT NULL, reason TEXT NOT NULL, at REAL NOT NULL);
"""


def connect(path: Path) -> sqlite3.Connection:
    """The project's database. Writes open a transaction implicitly and `with db:` commits it,
    or rolls it back on error, so each change is all-or-nothing (autocommit mode would not)."""
    db = sqlite3.connect(
        path / DB_FILE,
        check_same_thread=False,
        isolation_level="DEFERRED",
        timeout=30,
        factory=GuardedConnection,
    )
    db.project_path = str(path)  # named in the message of a failed write (disk full, ...)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
    except sqlite3.Error:
        db.close()
        raise
    return db


READ_ONLY = (
    "{path} is read-only (write-protected folder or database): it can be browsed, evaluated "
    "and used for prediction, but changes cannot be saved. Copy the project to a writable "
    "folder to change it."
)
_READING = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")


class ReadOnlyConnection(sqlite3.Connection):
    """The database of a project opened read-only: a statement that would change it raises
    a ProjectError saying so, instead of sqlite's 'attempt to write a readonly database'."""

    project_path = ""

    def _check(self, sql: str) -> None:
        words = sql.lstrip().split(None, 1)
        if words and words[0].upper() not in _READING:
            raise ProjectError(READ_ONLY.format(path=self.project_path))

    def execute(self, sql, *args):
        self._check(sql)
        return super().execute(sql, *args)

    def executemany(self, sql, *args):
        self._check(sql)
        return super().executemany(sql, *args)

    def executescript(self, script):
        self._check(script)
        return super().executescript(script)


def damaged(path: Path, e: Exception) -> ProjectError:
    offer = project_backup.offer(path) or (
        " There is no backup of it: make a new project and import the images again."
    )
    return DamagedProjectError(
        f"{path / DB_FILE} is damaged and cannot be read ({e}). It was left as it is.{offer}",
        str(path),
    )


def open_db(path: Path) -> tuple[sqlite3.Connection, bool]:
    """The project's database and whether it is read-only. A write-protected project opens
    read-only; a damaged database file or one that cannot be opened at all raises a
    ProjectError naming it (never an sqlite traceback)."""
    db = None
    try:
        db = connect(path)
        db.execute("SELECT COUNT(*) FROM meta").fetchone()
        check_pages(db)
    except sqlite3.DatabaseError as e:
        if db is not None:
            db.close()
        if not isinstance(e, sqlite3.OperationalError) or "no such table" in str(e):
            raise damaged(path, e) from e
        return _open_read_only(path, e), True
    try:  # can it be changed? a write rolled back at once tells, also as root
        db.execute("PRAGMA busy_timeout=200")
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR REPLACE INTO meta VALUES ('write_probe', '1')")
    except sqlite3.OperationalError as e:
        busy = "locked" in str(e) or "busy" in str(e)  # another process writes: writable
        if not busy:
            db.close()
            return _open_read_only(path, e), True
    db.rollback()
    db.execute("PRAGMA busy_timeout=30000")
    return db, False


def check_pages(db: sqlite3.Connection) -> None:
    """SQLite's quick_check: a database damaged inside (not only in its header) is found on open,
    not by a later query. About 0.06 s for 100,000 images."""
    row = db.execute("PRAGMA quick_check(1)").fetchone()
    if row is None or row[0] != "ok":
        raise sqlite3.DatabaseError(f"database disk image is malformed ({row[0] if row else '?'})")


def _open_read_only(path: Path, why: Exception) -> sqlite3.Connection:
    """Open the database without writing anything, not even sqlite's -wal/-shm files."""
    uri = (path / DB_FILE).resolve().as_uri() + "?mode=ro&immutable=1"
    try:
        db = sqlite3.connect(uri, uri=True, check_same_thread=False, factory=ReadOnlyConnection)
        db.project_path = str(path)
        db.execute("SELECT COUNT(*) FROM meta").fetchone()
        check_pages(db)
    except sqlite3.DatabaseError as e:
        if isinstance(e, sqlite3.OperationalError) and "no such table" not in str(e):
            raise ProjectError(f"{path / DB_FILE} cannot be opened: {why}; {e}.") from e
        raise damaged(path, e) from e
    return db


def create_folder(path: Path, task: str, targets: Sequence[str], name: str) -> dict:
    """Make a new, empty project folder (it may exist but must not hold a project); its meta."""
    if task not in TASKS:
        raise ProjectError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    if (path / PROJECT_FILE).exists():
        raise ProjectError(f"{path} already holds a Topdown project.")
    try:
        path.mkdir(parents=True, exist_ok=True)
        for sub in SUBFOLDERS:
            (path / sub).mkdir(exist_ok=True)
    except OSError as e:
        raise ProjectError(f"Cannot create project folder {path}: {e.strerror or e}") from e
    if task == "regression" and not targets:
        targets = ["value"]
    meta = {
        "format": FORMAT,
        "schema_version": SCHEMA_VERSION,
        "task": task,
        "name": name or path.name,
        "targets": list(targets),
        "created": time.time(),
    }
    db = sqlite3.connect(path / DB_FILE)
    with db:
        db.executescript(SCHEMA)
        db.execute(
            "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (MASK_LABELS_KEY,))
    db.close()
    # project.json last: its presence marks a complete project
    atomic_write_text(path / PROJECT_FILE, json.dumps(meta, indent=2))
    return meta


def read_meta(path: Path) -> dict:
    """The meta of an existing project folder, or a ProjectError saying why it cannot open."""
    pj = path / PROJECT_FILE
    if not pj.is_file():
        raise ProjectError(f"{path} is not a Topdown project (no {PROJECT_FILE}).")
    try:
        meta = json.loads(pj.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ProjectError(f"{pj} cannot be read: {e}") from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ProjectError(f"{pj} is not a Topdown project file.")
    version = meta.get("schema_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise ProjectError(f"{pj} is damaged: schema_version {_brief(version)} is not a number.")
    if version > SCHEMA_VERSION:
        raise NewerVersionError(
            f"{path} was saved by a newer version of Topdown (project format {version}; "
            f"this version reads up to {SCHEMA_VERSION}). Update Topdown to open it."
        )
    if not isinstance(meta.get("task"), str) or meta["task"] not in TASKS:
        raise ProjectError(f"{pj} names an unknown task {_brief(meta.get('task'))}.")
    for key, ok in (
        ("name", lambda v: isinstance(v, str)),
        ("targets", lambda v: isinstance(v, list) and all(isinstance(t, str) for t in v)),
    ):
        if key in meta and meta[key] is not None and not ok(meta[key]):
            raise ProjectError(f"{pj} is damaged: {key} {_brief(meta[key])} has the wrong type.")
    if not (path / DB_FILE).is_file():
        raise DamagedProjectError(
            f"{path} is missing its database {DB_FILE}.{project_backup.offer(path)}", str(path)
        )
    return meta


def _brief(value: object) -> str:
    """A value read from a damaged file, short and on one line, for a message."""
    text = repr(value)
    return shown(text if len(text) <= 60 else text[:57] + "...")


def check_db_version(db: sqlite3.Connection, path: Path) -> None:
    """NewerVersionError when the database was written by a newer Topdown."""
    row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
    if row and int(row[0]) > SCHEMA_VERSION:
        raise NewerVersionError(
            f"{path} was saved by a newer version of Topdown (database format {row[0]})."
        )


def backfill_mask_labels(db: sqlite3.Connection, path: Path) -> None:
    """Once per project: fill the labels table from the masks of a segmentation project
    made before masks were reflected there. Unreadable masks are left without labels.
    The caller holds the project's lock."""
    if db.execute("SELECT 1 FROM meta WHERE key=?", (MASK_LABELS_KEY,)).fetchone():
        return
    todo = db.execute(
        "SELECT i.id, i.mask FROM images i WHERE i.mask IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM labels l WHERE l.image_id=i.id) ORDER BY i.id"
    ).fetchall()
    from engine.imaging import BadImage, load_mask, mask_values
    from engine.project.paths import inside

    by_pos = {pos: cid for cid, pos in db.execute("SELECT id, position FROM classes")}
    rows = []
    for iid, rel in todo:
        try:
            values = mask_values(load_mask(inside(path, rel, f"the mask of image {iid}")))
        except (BadImage, OSError):
            continue
        rows += [(iid, by_pos[v]) for v in values if v in by_pos]
    try:
        with db:
            db.executemany("INSERT OR IGNORE INTO labels(image_id, class_id) VALUES (?,?)", rows)
            db.execute("INSERT OR REPLACE INTO meta VALUES (?, '1')", (MASK_LABELS_KEY,))
    except sqlite3.Error:
        return  # read-only folder: counts stay empty, nothing else breaks

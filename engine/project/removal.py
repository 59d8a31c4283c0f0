"""Taking images out of a project, undoably: their rows leave the database and their files (the
project's copy in images/, the mask in masks/, the thumbnails) move to ``PROJECT/trash/<key>/``,
from where `restore` puts everything back with the same ids. Nothing outside the project folder
is touched: the user's originals never are.

Order keeps a crash harmless: rows go first (one transaction), then files move; on restore files
come back first, then rows. A crash in between leaves only stray files, never a row without its
file. The trash of a removal lasts while its undo step can use it: `purge` deletes it, the
Project purges its own removals on close and leftovers older than a day on open.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.errors import ProjectError
from engine.project.paths import OutsideProjectError, inside

TRASH_DIR = "trash"
THUMBS_DIR = "thumbs"  # engine.project.thumbnails.THUMBS_DIR (that module imports the store)
TRASH_MAX_AGE_S = 24 * 3600  # leftovers of a session that did not close cleanly
NEXT_ID_KEY = "next_image_id"  # meta: ids of removed images are never given to new ones
COLUMNS = (
    "id, file, name, source, sha1, width, height, split, split_locked, mask, vals, added"
)  # fmt: skip


@dataclass
class Removal:
    """What one remove_images took out: the rows (with label names) and, for each moved file,
    its project-relative path and its place in the trash."""

    key: str
    rows: list[dict] = field(default_factory=list)
    files: list[tuple[str, str]] = field(default_factory=list)  # (project path, trash path)

    @property
    def ids(self) -> list[int]:
        return [r["id"] for r in self.rows]


def _inside(path: Path, rel: str | None, *folders: str) -> bool:
    """Whether a stored path names a file in one of the project's `folders` (never outside)."""
    if not rel or Path(rel).parts[:1] not in [(f,) for f in folders]:
        return False
    try:
        inside(path, rel, "a removed image's file")
    except OutsideProjectError:
        return False
    return True


def remove(path: Path, db: sqlite3.Connection, ids: Sequence[int]) -> Removal:
    """Delete the rows of `ids` and move their files to a new trash folder; the caller holds
    the project's lock."""
    cols = [c.strip() for c in COLUMNS.split(",")]
    rows = []
    for iid in dict.fromkeys(ids):
        r = db.execute(f"SELECT {COLUMNS} FROM images WHERE id=?", (iid,)).fetchone()
        if r is None:
            continue
        row = dict(zip(cols, r, strict=True))
        row["labels"] = [
            n
            for (n,) in db.execute(
                "SELECT c.name FROM labels l JOIN classes c ON c.id=l.class_id "
                "WHERE l.image_id=? ORDER BY c.position",
                (iid,),
            )
        ]
        rows.append(row)
    removal = Removal(f"{time.time_ns()}-{os.getpid()}", rows)
    if not rows:
        return removal
    gone = [r["id"] for r in rows]
    top = max(gone) + 1
    with db:
        db.executemany("DELETE FROM images WHERE id=?", [(i,) for i in gone])
        old = db.execute("SELECT value FROM meta WHERE key=?", (NEXT_ID_KEY,)).fetchone()
        top = max(top, int(old[0]) if old else 0)
        db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (NEXT_ID_KEY, str(top)))
    trash = path / TRASH_DIR / removal.key
    trash.mkdir(parents=True, exist_ok=True)
    shared = {s for (s,) in db.execute("SELECT DISTINCT sha1 FROM images")}
    for row in rows:
        rels = [row["file"], row["mask"]]
        if row["sha1"] not in shared:  # thumbnails are per content: keep those still in use
            thumbs = (path / THUMBS_DIR).glob(f"{glob.escape(str(row['sha1']))}_*")
            rels += [f"{THUMBS_DIR}/{t.name}" for t in thumbs if "/" not in str(row["sha1"])]
        for rel in rels:
            if not _inside(path, rel, "images", "masks", THUMBS_DIR):
                continue
            dest = f"{len(removal.files)}_{Path(rel).name}"
            try:
                os.replace(path / rel, trash / dest)
            except OSError:
                continue  # already missing: nothing to keep
            removal.files.append((rel, dest))
    _write_manifest(trash, removal)
    return removal


def _write_manifest(trash: Path, removal: Removal) -> None:
    """rows.json beside the files: what was removed, readable by a person if ever needed."""
    try:
        text = json.dumps({"rows": removal.rows, "files": removal.files}, indent=1)
        (trash / "rows.json").write_text(text, encoding="utf-8")
    except OSError:
        pass  # the undo step holds the same data in memory


def _free(path: Path, rel: str) -> str:
    """`rel`, or the first name_2, name_3, ... not taken in its folder."""
    p = Path(rel)
    cand, n = rel, 1
    while (path / cand).exists():
        n += 1
        cand = str(p.with_name(f"{p.stem}_{n}{p.suffix}"))
    return cand


def restore(path: Path, db: sqlite3.Connection, removal: Removal) -> list[int]:
    """Put a removal back (files, then rows with their ids and labels); the caller holds the
    project's lock. ProjectError, with nothing changed, when its files are gone."""
    trash = path / TRASH_DIR / removal.key
    missing = [dest for _, dest in removal.files if not (trash / dest).exists()]
    if missing:
        raise ProjectError(f"The removed images cannot be restored: {trash} no longer holds them.")
    taken = [r["id"] for r in removal.rows if db.execute(
        "SELECT 1 FROM images WHERE id=?", (r["id"],)).fetchone()]  # fmt: skip
    if taken:
        raise ProjectError(f"Images with ids {taken} exist again; cannot restore the removal.")
    moved: dict[str, str] = {}
    for rel, dest in removal.files:
        new = _free(path, rel) if not rel.startswith(THUMBS_DIR) else rel
        (path / new).parent.mkdir(parents=True, exist_ok=True)
        os.replace(trash / dest, path / new)
        moved[rel] = new
    cols = [c.strip() for c in COLUMNS.split(",")]
    cmap = dict(db.execute("SELECT name, id FROM classes").fetchall())
    with db:
        for r in removal.rows:
            vals = {**r, "file": moved.get(r["file"], r["file"])}
            if r["mask"]:
                vals["mask"] = moved.get(r["mask"], r["mask"])
            db.execute(
                f"INSERT INTO images({COLUMNS}) VALUES ({','.join('?' * len(cols))})",
                [vals[c] for c in cols],
            )
            db.executemany(
                "INSERT OR IGNORE INTO labels(image_id, class_id) VALUES (?,?)",
                [(r["id"], cmap[n]) for n in r["labels"] if n in cmap],
            )
    purge(path, removal)
    return removal.ids


def purge(path: Path, removal: Removal) -> None:
    """Delete a removal's trash for good (its undo step is gone)."""
    shutil.rmtree(path / TRASH_DIR / removal.key, ignore_errors=True)


def purge_stale(path: Path, max_age_s: float = TRASH_MAX_AGE_S) -> None:
    """Delete trash folders older than `max_age_s` (left by a session that did not close)."""
    folder = path / TRASH_DIR
    if not folder.is_dir():
        return
    now = time.time()
    for entry in os.scandir(folder):
        try:
            if now - entry.stat().st_mtime > max_age_s:
                shutil.rmtree(entry.path, ignore_errors=True)
        except OSError:
            continue

"""Read-only queries on a project database: image records, filters, counts, split state.

Functions of an open `sqlite3.Connection`; `engine.project.store.Project` calls them holding its
lock. Never imports Qt or torch.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence

from engine.project.records import Counts, ImageRecord

COLS = "i.id, i.file, i.name, i.source, i.sha1, i.width, i.height, i.split, i.vals, i.mask"
CHUNK = 900  # SQLite's limit on query parameters is 999 in old builds


def records(db: sqlite3.Connection, rows) -> list[ImageRecord]:
    """ImageRecords for rows of COLS, with their labels in class order."""
    if not rows:
        return []
    ids = [r[0] for r in rows]
    labels: dict[int, list[str]] = {}
    for chunk_start in range(0, len(ids), CHUNK):
        chunk = ids[chunk_start : chunk_start + CHUNK]
        q = (
            "SELECT l.image_id, c.name FROM labels l JOIN classes c ON c.id=l.class_id "
            f"WHERE l.image_id IN ({','.join('?' * len(chunk))}) ORDER BY c.position"
        )
        for iid, cname in db.execute(q, chunk):
            labels.setdefault(iid, []).append(cname)
    out = []
    for r in rows:
        vals = tuple(json.loads(r[8])) if r[8] else None
        out.append(
            ImageRecord(
                id=r[0],
                file=r[1],
                name=r[2],
                source=r[3],
                sha1=r[4],
                width=r[5],
                height=r[6],
                split=r[7],
                labels=tuple(labels.get(r[0], ())),
                values=vals,
                mask=r[9],
            )
        )
    return out


def images(db: sqlite3.Connection, ids: Sequence[int] | None) -> list[ImageRecord]:
    """Records for `ids` (in that order), or for every image when ids is None."""
    if ids is None:
        rows = db.execute(f"SELECT {COLS} FROM images i ORDER BY i.id").fetchall()
        return records(db, rows)
    ids = list(ids)
    rows = []
    for s in range(0, len(ids), CHUNK):
        chunk = ids[s : s + CHUNK]
        rows += db.execute(
            f"SELECT {COLS} FROM images i WHERE i.id IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
    recs = {r.id: r for r in records(db, rows)}
    return [recs[i] for i in ids if i in recs]


def _unlabeled_condition(task: str, table: str) -> str:
    if task == "regression":
        return f"{table}.vals IS NULL"
    if task == "segmentation":
        return f"{table}.mask IS NULL"
    return f"NOT EXISTS (SELECT 1 FROM labels l WHERE l.image_id={table}.id)"


def query(
    db: sqlite3.Connection,
    task: str,
    *,
    label: str | None,
    unlabeled: bool,
    split: str | None,
    name_contains: str | None,
) -> list[int]:
    """Ids of the images that pass every given filter, in import order."""
    where, args = [], []
    if label is not None:
        where.append(
            "i.id IN (SELECT l.image_id FROM labels l JOIN classes c ON c.id=l.class_id "
            "WHERE c.name=?)"
        )
        args.append(label)
    if unlabeled:
        where.append(_unlabeled_condition(task, "i"))
    if split is not None:
        where.append("i.split=?")
        args.append(split)
    if name_contains:
        where.append("i.name LIKE ? ESCAPE '\\'")
        esc = name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        args.append(f"%{esc}%")
    sql = "SELECT i.id FROM images i"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY i.id"
    return [i for (i,) in db.execute(sql, args).fetchall()]


def counts(db: sqlite3.Connection, task: str) -> Counts:
    c = Counts()
    c.total = db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
    for s, n in db.execute("SELECT split, COUNT(*) FROM images GROUP BY split"):
        c.per_split[s] = n
    cls = db.execute("SELECT id, name FROM classes ORDER BY position").fetchall()
    c.per_class = {n: 0 for _, n in cls}
    c.per_class_split = {n: {} for _, n in cls}
    name_of = dict(cls)
    # grouped by class id, not name: no join with classes (matters at 100k images)
    for cid, s, n in db.execute(
        "SELECT l.class_id, i.split, COUNT(*) FROM labels l "
        "JOIN images i ON i.id=l.image_id GROUP BY l.class_id, i.split"
    ):
        name = name_of[cid]
        c.per_class[name] += n
        c.per_class_split[name][s] = n
    cond = _unlabeled_condition(task, "images")
    c.unlabeled = db.execute(f"SELECT COUNT(*) FROM images WHERE {cond}").fetchone()[0]
    return c


def split_state(db: sqlite3.Connection, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
    """(split, lock level) of `ids`."""
    out: dict[int, tuple[str, int]] = {}
    ids = list(ids)
    for s in range(0, len(ids), CHUNK):
        chunk = ids[s : s + CHUNK]
        for iid, sp, lk in db.execute(
            f"SELECT id, split, split_locked FROM images WHERE id IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        ):
            out[iid] = (sp, lk)
    return out

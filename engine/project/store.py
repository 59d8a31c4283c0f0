"""A Topdown project: one folder on disk, every change saved at once.

Layout of a project folder::

    project.json   format marker, schema version, task, regression target names (atomic JSON)
    project.db     SQLite: images, classes, labels, splits, skipped files (a transaction a change)
    training.json  the last training configuration (engine.config.TrainConfig)
    images/        copies of the imported images (the user's originals are never touched)
    masks/         segmentation masks, one class-index PNG per image (255 = unlabeled)

Segmentation: an image's labels are the classes present in its mask (mask value v is the class
at position v, background included; 255 is not a class), kept in the labels table whenever a
mask is set, so counts() and query(label=...) work as for the other tasks. "Unlabeled" there
still means "has no mask".
    thumbs/        thumbnail cache (disposable)
    models/        checkpoints and evaluation results written by the trainer

Every path stored inside the project is relative to its folder, so the folder can be moved.
This module never imports Qt or torch.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from engine.errors import NewerVersionError, ProjectError
from engine.project import db as project_db
from engine.project import queries as project_queries
from engine.project import removal as project_removal
from engine.project.records import (  # re-exported: engine.project.store is the public import path
    DB_FILE,
    FORMAT,
    IGNORE_INDEX,
    MASK_LABELS_KEY,
    PROJECT_FILE,
    SCHEMA_VERSION,
    SPLITS,
    TASKS,
    TRAINING_FILE,
    ClassInfo,
    Counts,
    ImageRecord,
    NewImage,
    atomic_write_text,
    default_color,
)
from engine.project.removal import Removal
from engine.project.splits import assign_splits as _assign_splits

__all__ = [
    "DB_FILE",
    "FORMAT",
    "IGNORE_INDEX",
    "MASK_LABELS_KEY",
    "PROJECT_FILE",
    "SCHEMA_VERSION",
    "SPLITS",
    "TASKS",
    "TRAINING_FILE",
    "ClassInfo",
    "Counts",
    "ImageRecord",
    "NewImage",
    "NewerVersionError",
    "Project",
    "ProjectError",
    "atomic_write_text",
    "default_color",
]


class Project:
    """The project store. Open with `Project.open`, make with `Project.create`.

    All methods save immediately (one SQLite transaction each). One Project object may be used
    from several threads; calls are serialised by a lock.
    """

    def __init__(self, path: Path, meta: dict):
        self.path = Path(path).resolve()
        self._meta = meta
        self._lock = threading.RLock()
        self._db, self.read_only = project_db.open_db(self.path)
        self._listeners: list = []
        self._removals: set[str] = set()  # trash folders of this session's removals

    # ----------------------------------------------------------------- lifecycle
    @classmethod
    def create(
        cls, path: str | os.PathLike, task: str, *, targets: Sequence[str] = (), name: str = ""
    ) -> Project:
        """Make a new, empty project folder (it may exist but must not hold a project)."""
        path = Path(path)
        meta = project_db.create_folder(path, task, targets, name)
        return cls(path, meta)

    @classmethod
    def open(cls, path: str | os.PathLike) -> Project:
        path = Path(path)
        meta = project_db.read_meta(path)
        project = cls(path, meta)
        try:
            project_db.check_db_version(project._db, path)
        except NewerVersionError:
            project.close()
            raise
        if project.read_only:  # browse, evaluate, predict; changes raise ProjectError
            return project
        for sub in project_db.SUBFOLDERS:
            (path / sub).mkdir(exist_ok=True)
        if project.task == "segmentation":
            project._backfill_mask_labels()
        project_removal.purge_stale(path)
        return project

    def _backfill_mask_labels(self) -> None:
        """Once per project: see engine.project.db.backfill_mask_labels."""
        with self._lock:
            project_db.backfill_mask_labels(self._db, self.path)

    def close(self) -> None:
        """Close the database; this session's removals can no longer be undone: their trash
        goes."""
        with self._lock:
            for key in list(self._removals):
                project_removal.purge(self.path, project_removal.Removal(key))
            self._removals.clear()
            try:
                self._db.close()
            except sqlite3.Error:
                pass

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ----------------------------------------------------------------- change listeners
    def subscribe(self, fn) -> None:
        """fn(kind: str, ids: list[int] | None) after each change; kind in
        'images', 'labels', 'classes', 'splits'. Called on the changing thread."""
        self._listeners.append(fn)

    def unsubscribe(self, fn) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def _changed(self, kind: str, ids: Iterable[int] | None = None) -> None:
        id_list = list(ids) if ids is not None else None
        for fn in list(self._listeners):
            fn(kind, id_list)

    # ----------------------------------------------------------------- meta
    @property
    def task(self) -> str:
        return self._meta["task"]

    @property
    def name(self) -> str:
        return self._meta.get("name") or self.path.name

    @property
    def targets(self) -> list[str]:
        """Names of the regression targets (one number per target per image)."""
        return list(self._meta.get("targets") or [])

    def set_targets(self, names: Sequence[str]) -> None:
        self._meta["targets"] = list(names)
        atomic_write_text(self.path / PROJECT_FILE, json.dumps(self._meta, indent=2))

    def abspath(self, rel: str) -> Path:
        return self.path / rel

    def load_settings(self, file: str = TRAINING_FILE) -> dict:
        p = self.path / file
        if not p.is_file():
            return {}
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save_settings(self, data: dict, file: str = TRAINING_FILE) -> None:
        if self.read_only:
            raise ProjectError(project_db.READ_ONLY.format(path=self.path))
        atomic_write_text(self.path / file, json.dumps(data, indent=2, sort_keys=True))

    # ----------------------------------------------------------------- classes
    def classes(self) -> list[ClassInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, color, position FROM classes ORDER BY position, id"
            ).fetchall()
        return [ClassInfo(*r) for r in rows]

    def class_names(self) -> list[str]:
        return [c.name for c in self.classes()]

    def _class_id(self, name: str) -> int:
        row = self._db.execute("SELECT id FROM classes WHERE name=?", (name,)).fetchone()
        if row is None:
            raise ProjectError(f"There is no class named {name!r}.")
        return row[0]

    def add_class(self, name: str, color: str | None = None) -> ClassInfo:
        name = name.strip()
        if not name:
            raise ProjectError("A class needs a name.")
        with self._lock, self._db:
            if self._db.execute("SELECT 1 FROM classes WHERE name=?", (name,)).fetchone():
                raise ProjectError(f"A class named {name!r} already exists.")
            pos = self._db.execute("SELECT COALESCE(MAX(position)+1, 0) FROM classes").fetchone()[0]
            color = color or default_color(pos)
            cur = self._db.execute(
                "INSERT INTO classes(name, color, position) VALUES (?,?,?)", (name, color, pos)
            )
            info = ClassInfo(cur.lastrowid, name, color, pos)
        self._changed("classes")
        return info

    def ensure_classes(self, names: Iterable[str]) -> None:
        existing = set(self.class_names())
        for n in names:
            if n not in existing:
                self.add_class(n)
                existing.add(n)

    def rename_class(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise ProjectError("A class needs a name.")
        with self._lock, self._db:
            cid = self._class_id(old)
            if (
                new != old
                and self._db.execute("SELECT 1 FROM classes WHERE name=?", (new,)).fetchone()
            ):
                raise ProjectError(f"A class named {new!r} already exists; merge them instead.")
            self._db.execute("UPDATE classes SET name=? WHERE id=?", (new, cid))
        self._changed("classes")

    def recolor_class(self, name: str, color: str) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE classes SET color=? WHERE id=?", (color, self._class_id(name)))
        self._changed("classes")

    def delete_class(self, name: str) -> None:
        """Remove a class; its images become unlabeled (images themselves stay)."""
        if self.task == "segmentation":
            raise ProjectError("Segmentation classes are mask values; merge them instead.")
        with self._lock, self._db:
            self._db.execute("DELETE FROM classes WHERE id=?", (self._class_id(name),))
        self._changed("classes")
        self._changed("labels", None)

    def merge_classes(self, sources: Sequence[str], target: str) -> None:
        """Move every label of `sources` onto `target` (created if needed), then drop sources."""
        if self.task == "segmentation":
            raise ProjectError("Segmentation classes are mask values; they cannot be merged.")
        if target not in self.class_names():
            self.add_class(target)
        with self._lock, self._db:
            tid = self._class_id(target)
            for s in sources:
                if s == target:
                    continue
                sid = self._class_id(s)
                self._db.execute(
                    "INSERT OR IGNORE INTO labels(image_id, class_id) "
                    "SELECT image_id, ? FROM labels WHERE class_id=?",
                    (tid, sid),
                )
                self._db.execute("DELETE FROM classes WHERE id=?", (sid,))
        self._changed("classes")
        self._changed("labels", None)

    # ----------------------------------------------------------------- images
    def add_images(self, items: Sequence[NewImage]) -> list[int]:
        """Add many images in one transaction; class names in labels are created on demand."""
        items = list(items)
        names = {n for it in items for n in it.labels}
        self.ensure_classes(sorted(names - set(self.class_names())))
        now = time.time()
        rows, label_rows = [], []
        with self._lock, self._db:
            cmap = dict(self._db.execute("SELECT name, id FROM classes").fetchall())
            # explicit ids, so the whole batch is two executemany calls
            first = self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM images").fetchone()[0]
            row = self._db.execute(
                "SELECT value FROM meta WHERE key=?", (project_removal.NEXT_ID_KEY,)
            ).fetchone()
            first = max(first, int(row[0]) if row else 0)  # a removed image's id stays its own
            ids = list(range(first, first + len(items)))
            for iid, it in zip(ids, items, strict=True):
                split = it.split or "train"
                if split not in SPLITS:
                    raise ProjectError(f"Unknown split {split!r} for {it.name}.")
                vals = None if it.values is None else json.dumps([float(v) for v in it.values])
                locked = 2 if (it.split_locked or it.split is not None) else 0
                rows.append(
                    (iid, it.file, it.name, it.source, it.sha1, it.width, it.height, split,
                     locked, it.mask, vals, now)
                )  # fmt: skip
                label_rows += [(iid, cmap[n]) for n in it.labels]
            self._db.executemany(
                "INSERT INTO images(id, file, name, source, sha1, width, height, split, "
                "split_locked, mask, vals, added) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO labels(image_id, class_id) VALUES (?,?)", label_rows
            )
        self._changed("images", ids)
        return ids

    def remove_images(self, ids: Sequence[int]) -> Removal:
        """Take images out of the project: their rows go, and the project's own files (copy,
        mask, thumbnails) move to PROJECT/trash/ so `restore_images` can undo it. Nothing
        outside the project folder is touched. See engine.project.removal."""
        with self._lock:
            removal = project_removal.remove(self.path, self._db, ids)
            if removal.rows:
                self._removals.add(removal.key)
        self._changed("images", removal.ids)
        return removal

    def restore_images(self, removal: Removal) -> list[int]:
        """Undo a remove_images: files back (renamed if their name was taken since), rows back
        with the same ids, labels and splits. ProjectError when that is no longer possible."""
        if self.task != "segmentation":  # classes deleted since come back, as restore_labels
            self.ensure_classes(sorted({n for r in removal.rows for n in r["labels"]}))
        with self._lock:
            ids = project_removal.restore(self.path, self._db, removal)
            self._removals.discard(removal.key)
        self._changed("images", ids)
        return ids

    def purge_removal(self, removal: Removal) -> None:
        """Delete a removal's files for good (when its undo step is dropped)."""
        project_removal.purge(self.path, removal)
        self._removals.discard(removal.key)

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM images").fetchone()[0]

    def has_sha1(self, sha1: str) -> str | None:
        """Name of an image already in the project with this content, or None."""
        with self._lock:
            row = self._db.execute(
                "SELECT name FROM images WHERE sha1=? LIMIT 1", (sha1,)
            ).fetchone()
        return row[0] if row else None

    def images_by_sha1(self) -> dict[str, str]:
        """Content hash -> name of an image with that content (what an import checks against)."""
        with self._lock:
            return dict(self._db.execute("SELECT sha1, name FROM images").fetchall())

    def image(self, image_id: int) -> ImageRecord:
        recs = self.images([image_id])
        if not recs:
            raise ProjectError(f"No image with id {image_id}.")
        return recs[0]

    def images(self, ids: Sequence[int] | None = None) -> list[ImageRecord]:
        """Records for `ids` (in that order), or for every image when ids is None."""
        with self._lock:
            return project_queries.images(self._db, ids)

    def query(
        self,
        *,
        label: str | None = None,
        unlabeled: bool = False,
        split: str | None = None,
        name_contains: str | None = None,
    ) -> list[int]:
        """Ids of the images that pass every given filter, in import order."""
        task = self.task
        with self._lock:
            return project_queries.query(
                self._db,
                task,
                label=label,
                unlabeled=unlabeled,
                split=split,
                name_contains=name_contains,
            )

    def counts(self) -> Counts:
        with self._lock:
            return project_queries.counts(self._db, self.task)

    # ----------------------------------------------------------------- labels
    def set_labels(self, ids: Sequence[int], labels: Sequence[str]) -> None:
        """Replace the labels of `ids` (one label for classification, any for multi-label,
        none to unlabel). Unknown class names are an error. A segmentation image's labels
        come from its mask (set_mask), so they cannot be set here."""
        self._refuse_segmentation()
        if self.task == "classification" and len(labels) > 1:
            raise ProjectError("A classification image has one label; use a multi-label project.")
        with self._lock, self._db:
            cids = [self._class_id(n) for n in labels]
            self._db.executemany("DELETE FROM labels WHERE image_id=?", [(i,) for i in ids])
            self._db.executemany(
                "INSERT INTO labels(image_id, class_id) VALUES (?,?)",
                [(i, c) for i in ids for c in cids],
            )
        self._changed("labels", ids)

    def toggle_label(self, ids: Sequence[int], label: str, on: bool) -> None:
        """Multi-label: add or remove one label on `ids`, keeping the others."""
        self._refuse_segmentation()
        with self._lock, self._db:
            cid = self._class_id(label)
            if on:
                self._db.executemany(
                    "INSERT OR IGNORE INTO labels(image_id, class_id) VALUES (?,?)",
                    [(i, cid) for i in ids],
                )
            else:
                self._db.executemany(
                    "DELETE FROM labels WHERE image_id=? AND class_id=?", [(i, cid) for i in ids]
                )
        self._changed("labels", ids)

    def set_values(self, ids: Sequence[int], values: Sequence[float] | None) -> None:
        """Regression targets for `ids` (None clears them)."""
        if values is not None:
            values = [float(v) for v in values]
            if any(v != v or v in (float("inf"), float("-inf")) for v in values):
                raise ProjectError("A regression target must be a finite number.")
        enc = None if values is None else json.dumps(values)
        with self._lock, self._db:
            self._db.executemany("UPDATE images SET vals=? WHERE id=?", [(enc, i) for i in ids])
        self._changed("labels", ids)

    def _refuse_segmentation(self) -> None:
        if self.task == "segmentation":
            raise ProjectError(
                "A segmentation image's classes come from its mask; edit the mask instead."
            )

    def mask_classes(self, values: Iterable[int]) -> list[str]:
        """Class names for mask values (value v: the class at position v; others left out)."""
        by_pos = {c.position: c.name for c in self.classes()}
        return [by_pos[v] for v in values if v in by_pos]

    def set_mask(
        self, image_id: int, mask_rel: str | None, present: Sequence[str] | None = None
    ) -> None:
        """Give an image its mask (None: no mask) and record the classes present in it as its
        labels. `present` names them when the caller already knows (from the array it wrote);
        otherwise the mask file is read."""
        if mask_rel is None:
            present = ()
        elif present is None:
            from engine.imaging import load_mask, mask_values

            present = self.mask_classes(mask_values(load_mask(self.path / mask_rel)))
        with self._lock, self._db:
            cids = [self._class_id(n) for n in present]
            self._db.execute("UPDATE images SET mask=? WHERE id=?", (mask_rel, image_id))
            self._db.execute("DELETE FROM labels WHERE image_id=?", (image_id,))
            self._db.executemany(
                "INSERT OR IGNORE INTO labels(image_id, class_id) VALUES (?,?)",
                [(image_id, c) for c in cids],
            )
        self._changed("labels", [image_id])

    def save_mask(self, image_id: int, mask) -> str:
        """Save a painted HxW class-index mask for an image: checked (size, values), written
        atomically into masks/, then recorded with the classes present. Returns its path.
        ProjectError (nothing written) on a bad mask."""
        from engine.project import masks

        rec = self.image(image_id)
        classes = self.classes()
        arr = masks.check_mask(rec, mask, len(classes))
        rel = rec.mask or masks.new_mask_rel(self.path, rec)
        masks.write_mask_png(self.path / rel, arr, [c.color for c in classes])
        present, _ = masks.present_values(arr, len(classes))
        self.set_mask(image_id, rel, self.mask_classes(present))
        return rel

    def read_mask(self, image_id: int):
        """An image's mask as an HxW uint8 array (None: no mask); ProjectError if unreadable."""
        from engine.imaging import BadImage, load_mask

        rec = self.image(image_id)
        if not rec.mask:
            return None
        try:
            return load_mask(self.path / rec.mask)
        except BadImage as e:
            raise ProjectError(f"{rec.name}: its mask cannot be read ({e.reason}).") from e

    def clear_mask(self, image_id: int) -> None:
        """Take an image's mask away (it counts as unlabeled again); the file is deleted."""
        rec = self.image(image_id)
        self.set_mask(image_id, None)
        if rec.mask:
            (self.path / rec.mask).unlink(missing_ok=True)

    # ----------------------------------------------------------------- snapshots (undo)
    def label_state(self, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """Current class labels of `ids` (for undo)."""
        return {r.id: r.labels for r in self.images(ids)}

    def value_state(self, ids: Sequence[int]) -> dict[int, tuple[float, ...] | None]:
        """Current regression targets of `ids` (for undo)."""
        return {r.id: r.values for r in self.images(ids)}

    def split_state(self, ids: Sequence[int]) -> dict[int, tuple[str, int]]:
        """(split, lock level) of `ids` (for undo)."""
        with self._lock:
            return project_queries.split_state(self._db, ids)

    def restore_labels(self, state: dict[int, Sequence[str]]) -> None:
        """Put back labels saved by `label_state` (classes deleted since are re-created)."""
        self.ensure_classes(sorted({n for labs in state.values() for n in labs}))
        with self._lock, self._db:
            cmap = dict(self._db.execute("SELECT name, id FROM classes").fetchall())
            self._db.executemany("DELETE FROM labels WHERE image_id=?", [(i,) for i in state])
            self._db.executemany(
                "INSERT OR IGNORE INTO labels(image_id, class_id) VALUES (?,?)",
                [(i, cmap[n]) for i, labs in state.items() for n in labs],
            )
        self._changed("labels", list(state))

    def restore_values(self, state: dict[int, Sequence[float] | None]) -> None:
        """Put back regression targets saved by `value_state`."""
        rows = [
            (None if v is None else json.dumps([float(x) for x in v]), i) for i, v in state.items()
        ]
        with self._lock, self._db:
            self._db.executemany("UPDATE images SET vals=? WHERE id=?", rows)
        self._changed("labels", list(state))

    def restore_splits(self, state: dict[int, tuple[str, int]]) -> None:
        """Put back splits (and how they were fixed) saved by `split_state`."""
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE images SET split=?, split_locked=? WHERE id=?",
                [(sp, lk, i) for i, (sp, lk) in state.items()],
            )
        self._changed("splits", list(state))

    # ----------------------------------------------------------------- splits
    def set_split(self, ids: Sequence[int], split: str) -> None:
        """Put `ids` in a split by hand; automatic assignment leaves them there afterwards."""
        if split not in SPLITS:
            raise ProjectError(f"Unknown split {split!r}; use one of {', '.join(SPLITS)}.")
        with self._lock, self._db:
            self._db.executemany(
                "UPDATE images SET split=?, split_locked=2 WHERE id=?", [(split, i) for i in ids]
            )
        self._changed("splits", ids)

    def assign_splits(
        self, valid_pct: float = 0.2, test_pct: float = 0.0, seed: int = 42, *, relock: bool = False
    ) -> None:
        """Seeded, stratified split of the images not yet assigned (with relock: of every image
        whose split was not fixed by hand or by the import's train/valid folders).

        Stratified by first label (classification), by label set (multi-label), and by
        quantile bins of the first target (regression). Deterministic for a given seed.
        """
        if not 0 <= valid_pct < 1 or not 0 <= test_pct < 1 or valid_pct + test_pct >= 1:
            raise ProjectError("Split percentages must be between 0 and 1 and sum below 1.")
        with self._lock:
            # split_locked: 0 not yet assigned, 1 assigned automatically, 2 fixed by hand or import
            cond = " WHERE split_locked<2" if relock else " WHERE split_locked=0"
            rows = self._db.execute(f"SELECT id, vals FROM images{cond} ORDER BY id").fetchall()
            lab: dict[int, str] = {}
            for iid, name in self._db.execute(
                "SELECT l.image_id, c.name FROM labels l JOIN classes c ON c.id=l.class_id "
                "ORDER BY c.position"
            ):
                lab[iid] = lab[iid] + "|" + name if iid in lab else name
        assignment = _assign_splits(self.task, rows, lab, valid_pct, test_pct, seed)
        with self._lock, self._db:
            self._db.executemany("UPDATE images SET split=?, split_locked=1 WHERE id=?", assignment)
        self._changed("splits", None)

    # ----------------------------------------------------------------- skipped files
    def record_skipped(self, entries: Iterable[tuple[str, str]]) -> None:
        """Keep (path, reason) for files an import or a training run could not use."""
        now = time.time()
        with self._lock, self._db:
            self._db.executemany(
                "INSERT INTO skipped(path, reason, at) VALUES (?,?,?)",
                [(str(p), r, now) for p, r in entries],
            )

    def skipped(self) -> list[tuple[str, str]]:
        with self._lock:
            return [
                tuple(r) for r in self._db.execute("SELECT path, reason FROM skipped ORDER BY id")
            ]

    def clear_skipped(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM skipped")

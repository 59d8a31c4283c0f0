"""A Topdown project: one folder on disk, every change saved at once.

Layout of a project folder::

    project.json   format marker, schema version, task, regression target names (atomic JSON)
    project.db     SQLite: images, classes, labels, splits, skipped files (a transaction a change)
    training.json  the last training configuration (engine.config.TrainConfig)
    import_plan.json  how imports split new images (engine.imports.plan.ImportPlan)
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
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from engine.errors import NewerVersionError, ProjectError, StorageError, shown
from engine.project import backup as project_backup
from engine.project import db as project_db
from engine.project import locks as project_locks
from engine.project import paths as project_paths
from engine.project import queries as project_queries
from engine.project import removal as project_removal
from engine.project import sweep as project_sweep
from engine.project.class_ops import ClassOps
from engine.project.label_ops import LabelOps
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
from engine.project.state_ops import StateOps

log = logging.getLogger(__name__)

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


class Project(ClassOps, LabelOps, StateOps):
    """The project store. Open with `Project.open`, make with `Project.create`.

    All methods save immediately (one SQLite transaction each). One Project object may be used
    from several threads; calls are serialised by a lock.
    """

    def __init__(self, path: Path, meta: dict):
        self.path = Path(path).resolve()
        self._meta = meta
        self._lock = threading.RLock()
        self._db, self.read_only = project_db.open_db(self.path)
        # who has it open, so that a restore elsewhere refuses (engine.project.locks)
        self._open_mark = None if self.read_only else project_locks.mark_open(self.path)
        self._listeners: list = []
        self._removals: set[str] = set()  # trash folders of this session's removals
        self._backups = project_backup.Schedule()  # rolling copies of project.db in .backup/
        self.notices: list[str] = []  # what open() repaired (an interrupted import), for people

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
        project._backup_on_open()
        for sub in project_db.SUBFOLDERS:
            (path / sub).mkdir(exist_ok=True)
        if project.task == "segmentation":
            project._backfill_mask_labels()
        project.notices = project._recover() + project_sweep.sweep(project.path)
        project_removal.purge_stale(path)
        return project

    def _backup_on_open(self) -> None:
        """A backup of the healthy database (see engine.project.backup); a database whose
        copy fails its check is damaged after all: closed, and reported as such."""
        try:
            with self._lock:
                self._backups.on_open(self._db, self.path)
        except project_backup.DamagedCopy as e:
            self.close()
            raise project_db.damaged(self.path, e) from e

    def _recover(self) -> list[str]:
        """Clear what an interrupted import left (engine.project.recovery); what was done."""
        from engine.project import recovery

        try:
            notices = recovery.recover(self)
        except StorageError as e:  # a full disk: the project still opens, with every change
            notices = [f"An interrupted import could not be cleared up: {e}"]
        for line in notices:
            log.info("%s: %s", self.path, line)
        return notices

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
            if not self.read_only:
                self._backups.on_close(self._db, self.path)
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            project_locks.unmark_open(self._open_mark)
            self._open_mark = None

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
        with self._lock:
            self._backups.on_change(self._db, self.path)
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

    def check_writable(self) -> None:
        """ProjectError when the project is read-only (before a change writes any file)."""
        if self.read_only:
            raise ProjectError(project_db.READ_ONLY.format(path=self.path))

    def set_targets(self, names: Sequence[str]) -> None:
        self.check_writable()
        self._meta["targets"] = list(names)
        atomic_write_text(self.path / PROJECT_FILE, json.dumps(self._meta, indent=2))

    def abspath(self, rel: str, what: str = "a path stored in the project") -> Path:
        """The file `rel` (a path read from the project) names, checked to be inside the
        project folder (engine.project.paths.inside): OutsideProjectError naming `what`
        otherwise, before anything is read, written or deleted."""
        return project_paths.inside(self.path, rel, what)

    def image_path(self, rec: ImageRecord) -> Path:
        """The project's copy of an image, checked to lie inside the project."""
        return project_paths.inside(self.path, rec.file, f"image {rec.id} ({shown(rec.name)})")

    def mask_path(self, rec: ImageRecord) -> Path:
        """An image's mask file (rec.mask must be set), checked to lie inside the project."""
        what = f"the mask of image {rec.id} ({shown(rec.name)})"
        return project_paths.inside(self.path, rec.mask, what)

    def load_settings(self, file: str = TRAINING_FILE, problems: list[str] | None = None) -> dict:
        """The settings saved in `file` ({} when there are none). A damaged file (not JSON, or
        JSON of another shape) reads as {} too, and `problems` gets a sentence naming it."""
        p = self.path / file
        if not p.is_file():
            return {}
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            why = f"cannot be read ({shown(e)})"
            data = None
        else:
            why = "" if isinstance(data, dict) else "does not hold a JSON object"
        if why and problems is not None:
            problems.append(f"{shown(p)} {why}; the default settings are used")
        return data if isinstance(data, dict) else {}

    def save_settings(self, data: dict, file: str = TRAINING_FILE) -> None:
        self.check_writable()
        atomic_write_text(self.path / file, json.dumps(data, indent=2, sort_keys=True))

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

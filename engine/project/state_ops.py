"""Label, value and split snapshots for undo, and split assignment (part of `Project`).

A mixin of `engine.project.store.Project`, kept apart so the store stays readable; it uses the
store's `_db`, `_lock` and `_changed` and never stands alone.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from engine.errors import ProjectError
from engine.project import queries as project_queries
from engine.project.records import SPLITS
from engine.project.splits import assign_splits as _assign_splits


class StateOps:
    """Snapshot / restore and split methods of `Project` (see engine.project.store)."""

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

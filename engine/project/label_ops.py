"""Labels, values and masks of images (part of `Project`): set, toggle, paint, read.

A mixin of `engine.project.store.Project`, kept apart so the store stays readable; it uses the
store's `_db`, `_lock` and `_changed` and never stands alone.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace

from engine.errors import ProjectError


class LabelOps:
    """Label, value and mask methods of `Project` (see engine.project.store)."""

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

            path = self.abspath(mask_rel, f"the mask of image {image_id}")
            present = self.mask_classes(mask_values(load_mask(path)))
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

        self.check_writable()  # the mask file must not change when its row cannot
        rec = self.image(image_id)
        classes = self.classes()
        arr = masks.check_mask(rec, mask, len(classes))
        rel = rec.mask or masks.new_mask_rel(self.path, rec)
        target = self.mask_path(replace(rec, mask=rel))  # a stored path: inside the project
        masks.write_mask_png(target, arr, [c.color for c in classes])
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
            return load_mask(self.mask_path(rec))
        except BadImage as e:
            raise ProjectError(f"{rec.name}: its mask cannot be read ({e.reason}).") from e

    def clear_mask(self, image_id: int) -> None:
        """Take an image's mask away (it counts as unlabeled again); the file is deleted."""
        self.check_writable()
        rec = self.image(image_id)
        target = self.mask_path(rec) if rec.mask else None  # refused before the row changes
        self.set_mask(image_id, None)
        if target is not None:
            target.unlink(missing_ok=True)

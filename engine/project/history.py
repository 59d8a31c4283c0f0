"""Undo / redo of label, value and split changes, of painted masks, and of removing images.

Each change goes through the Project (saved at once) after a snapshot of the state it replaces,
so undo puts back exactly what was there, image by image. A new change clears the redo stack.
Removed images wait in the project's trash while their step can be undone; a step dropped from
the history (limit, clear) deletes them for good.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.project.store import IGNORE_INDEX, Project


def _images(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n} images"


def _num(v: float) -> str:
    return f"{v:g}"


@dataclass
class _Step:
    text: str
    restore: Callable[[Any], None]  # puts a snapshot back
    before: Any
    after: Any = None

    def undo(self) -> None:
        self.restore(self.before)

    def redo(self) -> None:
        self.restore(self.after)

    def discard(self) -> None:
        """The step leaves the history for good."""


class _RemoveStep:
    """Removing images: undo puts the files and rows back, redo removes them again."""

    def __init__(self, project: Project, text: str, removal):
        self.project, self.text, self.removal = project, text, removal
        self.ids = removal.ids

    def undo(self) -> None:
        self.project.restore_images(self.removal)
        self.removal = None

    def redo(self) -> None:
        self.removal = self.project.remove_images(self.ids)

    def discard(self) -> None:
        if self.removal is not None:
            self.project.purge_removal(self.removal)
            self.removal = None


class _MaskStep:
    """One stroke, fill or polygon on an image's mask: only the changed rectangle is kept (zlib),
    before and after, so a long session of strokes on big images stays small in memory. A side
    without a mask (none yet, or everything erased back to ignore) is "no mask" (clear_mask)."""

    def __init__(self, project: Project, text: str, image_id: int, before, after: np.ndarray):
        import zlib

        self.project, self.text, self.image_id = project, text, image_id
        self.had_mask = before is not None
        self.has_after = bool((after != IGNORE_INDEX).any())
        h, w = self.shape = after.shape
        if before is None or not self.has_after:
            y0, x0, y1, x1 = 0, 0, h, w
        else:
            diff = before != after
            rows, cols = np.flatnonzero(diff.any(1)), np.flatnonzero(diff.any(0))
            y0, y1 = (rows[0], rows[-1] + 1) if len(rows) else (0, 0)
            x0, x1 = (cols[0], cols[-1] + 1) if len(cols) else (0, 0)
        old = before[y0:y1, x0:x1] if before is not None else after[y0:y1, x0:x1] * 0 + 255
        self.box = (int(y0), int(x0), int(y1), int(x1))
        self._before = zlib.compress(np.ascontiguousarray(old).tobytes(), 1)
        self._after = zlib.compress(np.ascontiguousarray(after[y0:y1, x0:x1]).tobytes(), 1)

    def _paste(self, blob: bytes, base) -> None:
        import zlib

        y0, x0, y1, x1 = self.box
        base = np.array(base) if base is not None else np.full(self.shape, IGNORE_INDEX, np.uint8)
        patch = np.frombuffer(zlib.decompress(blob), np.uint8).reshape(y1 - y0, x1 - x0)
        base[y0:y1, x0:x1] = patch
        self.project.save_mask(self.image_id, base)

    def undo(self) -> None:
        if not self.had_mask:
            self.project.clear_mask(self.image_id)
        else:
            base = self.project.read_mask(self.image_id) if self.has_after else None
            self._paste(self._before, base)

    def redo(self) -> None:
        if not self.has_after:
            self.project.clear_mask(self.image_id)
        else:
            base = self.project.read_mask(self.image_id) if self.had_mask else None
            self._paste(self._after, base)

    def discard(self) -> None:
        """Nothing to clean up: the step holds its pixels in memory."""


class History:
    """Undoable edits on one project. Not thread-safe: use it from the GUI thread."""

    def __init__(self, project: Project, limit: int = 1000):
        self.project = project
        self.limit = limit
        self._undo: list[_Step] = []
        self._redo: list[_Step] = []

    # ----------------------------------------------------------------- changes
    def set_labels(self, ids: Sequence[int], labels: Sequence[str]) -> None:
        ids, labels = list(ids), list(labels)
        if labels:
            text = f"label {_images(len(ids))} as {', '.join(labels)}"
        else:
            text = f"unlabel {_images(len(ids))}"
        self._apply(text, ids, "labels", lambda: self.project.set_labels(ids, labels))

    def toggle_label(self, ids: Sequence[int], label: str, on: bool) -> None:
        ids = list(ids)
        text = (
            f"add label {label} to {_images(len(ids))}"
            if on
            else f"remove label {label} from {_images(len(ids))}"
        )
        self._apply(text, ids, "labels", lambda: self.project.toggle_label(ids, label, on))

    def set_values(self, ids: Sequence[int], values: Sequence[float] | None) -> None:
        ids = list(ids)
        vals = None if values is None else [float(v) for v in values]
        if vals is None:
            text = f"clear the value of {_images(len(ids))}"
        else:
            text = f"set the value of {_images(len(ids))} to {', '.join(map(_num, vals))}"
        self._apply(text, ids, "values", lambda: self.project.set_values(ids, vals))

    def set_split(self, ids: Sequence[int], split: str) -> None:
        ids = list(ids)
        text = f"move {_images(len(ids))} to {split}"
        self._apply(text, ids, "splits", lambda: self.project.set_split(ids, split))

    def paint_mask(self, image_id: int, before, after: np.ndarray, text: str = "paint") -> None:
        """Save `after` as an image's mask (before: the mask it replaces, None if it had none);
        a mask erased to all-ignore is taken away (the image is unlabeled again). One undo step;
        ProjectError (nothing saved or recorded) on a bad mask."""
        after = np.asarray(after)
        if before is not None and np.array_equal(before, after):
            return
        if (after != IGNORE_INDEX).any():
            self.project.save_mask(image_id, after)
        elif before is None:
            return  # nothing painted on an image without a mask: still no mask
        else:
            self.project.clear_mask(image_id)  # all erased: unlabeled again, left out of training
        name = self.project.image(image_id).name
        self._push(
            _MaskStep(self.project, f"{text} on the mask of {name}", image_id, before, after)
        )

    def record_import(self, mark, source: str = "") -> int:
        """Make what was imported since `mark` (engine.project.import_undo.ImportMark) one undo
        step; returns how many images that is (0: nothing recorded)."""
        from engine.project.import_undo import ImportStep

        ids, new_classes = mark.added(self.project)
        if ids:
            self._push(ImportStep(self.project, ids, new_classes, source))
        return len(ids)

    def remove_images(self, ids: Sequence[int]) -> int:
        """Remove images from the project (undoable); returns how many were removed."""
        removal = self.project.remove_images(list(ids))
        if removal.ids:
            self._push(_RemoveStep(self.project, f"remove {_images(len(removal.ids))}", removal))
        return len(removal.ids)

    # ----------------------------------------------------------------- undo / redo
    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    @property
    def undo_text(self) -> str:
        return self._undo[-1].text if self._undo else ""

    @property
    def redo_text(self) -> str:
        return self._redo[-1].text if self._redo else ""

    def undo(self) -> str:
        """Undo the last change; returns its description ("" if there was nothing to undo)."""
        if not self._undo:
            return ""
        step = self._undo.pop()
        step.undo()
        self._redo.append(step)
        return step.text

    def redo(self) -> str:
        """Redo the last undone change; returns its description ("" if nothing)."""
        if not self._redo:
            return ""
        step = self._redo.pop()
        step.redo()
        self._undo.append(step)
        return step.text

    def clear(self) -> None:
        for step in self._undo + self._redo:
            step.discard()
        self._undo.clear()
        self._redo.clear()

    # ----------------------------------------------------------------- internals
    def _apply(self, text: str, ids: list[int], kind: str, change: Callable[[], None]) -> None:
        p = self.project
        snap, restore = {
            "labels": (p.label_state, p.restore_labels),
            "values": (p.value_state, p.restore_values),
            "splits": (p.split_state, p.restore_splits),
        }[kind]
        before = snap(ids)
        change()  # raises ProjectError on bad input; nothing is recorded then
        self._push(_Step(text, restore, before, snap(ids)))

    def _push(self, step) -> None:
        self._undo.append(step)
        if len(self._undo) > self.limit:
            for old in self._undo[: len(self._undo) - self.limit]:
                old.discard()
            del self._undo[: len(self._undo) - self.limit]
        for old in self._redo:  # an undone import's copies wait in the trash: gone for good
            old.discard()
        self._redo.clear()

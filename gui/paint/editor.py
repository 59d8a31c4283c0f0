"""The mask editor of a segmentation project: a tool bar over the image viewer, and the commands
that change the mask (brush, eraser, fill, polygon). Each stroke, fill or polygon is one step of
the app's undo history (gui.state.AppState.edit) and is saved through the project store at once,
when the mouse is released; while the mouse moves only the touched pixels are redrawn.

New masks start as "ignore" (255): training skips those pixels, so a user can label a few
regions of an image and train, and the eraser gives pixels back to "ignore".
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.errors import ProjectError
from engine.project.records import IGNORE_INDEX
from gui.common.wrap_label import WrapLabel
from gui.paint import tools
from gui.paint.canvas import BrushCursor
from gui.paint.input import PaintInput

TOOLS = (
    ("brush", "Brush", "B", "Paint the chosen class"),
    ("eraser", "Eraser", "E", "Give pixels back to ignore (not labeled)"),
    ("fill", "Fill", "F", "Fill the connected area of one value under the click"),
    ("polygon", "Polygon", "P", "Click corners; click the first one, double-click or Enter fills"),
)
NEW_MASK_NOTE = (
    "New masks start as ignore (not labeled): only painted pixels teach the model, so a few "
    "strokes per image are enough to start. Images without a mask are left out of training."
)
IGNORE_COLOR = "#ffffff"
CLASS_COLUMNS = 4


def _chip_style(color: str) -> str:
    c = QColor(color)
    text = "#000" if (c.red() * 299 + c.green() * 587 + c.blue() * 114) > 140000 else "#fff"
    return (
        f"QToolButton{{background:{color};color:{text};border:2px solid transparent;"
        f"border-radius:4px;padding:2px 6px;}} QToolButton:checked{{border-color:#111;}}"
    )


class MaskEditor(QWidget):
    """Paint tools for the mask of the image shown in `viewer` (a gui.data.viewer.ImageViewer)."""

    IGNORE = IGNORE_INDEX
    message = Signal(str)

    def __init__(self, viewer):
        super().__init__(viewer)
        self.viewer = viewer
        self.project = None
        self.state = None
        self.painting = False
        self.tool = "brush"
        self.value = 1
        self.size = 12
        self.last_save_ms = 0.0
        self._before: np.ndarray | None = None
        self._last = (0.0, 0.0)
        self.cursor = BrushCursor()
        viewer.scene.addItem(self.cursor)
        self._build()
        self.input = PaintInput(self, viewer.view, viewer.scene, parent=self)

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.paint_button = QToolButton(text="✎ Paint mask", checkable=True)
        self.paint_button.setToolTip("Turn the mask editor on or off")
        self.paint_button.toggled.connect(self.set_painting)
        row.addWidget(self.paint_button)
        self.tool_bar = QWidget()
        tool_row = QHBoxLayout(self.tool_bar)
        tool_row.setContentsMargins(0, 0, 0, 0)
        self.tool_group = QButtonGroup(self)
        self.tool_buttons: dict[str, QToolButton] = {}
        for name, text, key, tip in TOOLS:
            b = QToolButton(text=text, checkable=True)
            b.setToolTip(f"{tip} ({key})")
            b.clicked.connect(lambda _=False, n=name: self.set_tool(n))
            self.tool_group.addButton(b)
            self.tool_buttons[name] = b
            tool_row.addWidget(b)
        tool_row.addWidget(QLabel("Size"))
        self.size_box = QSpinBox(minimum=1, maximum=500, suffix=" px")
        self.size_box.setToolTip("Brush size in image pixels ([ smaller, ] bigger)")
        self.size_box.valueChanged.connect(self.set_size)
        tool_row.addWidget(self.size_box)
        tool_row.addStretch(1)
        row.addStretch(1)
        self.prev_button = QToolButton(text="◀ Previous")
        self.next_button = QToolButton(text="Next ▶")
        self.prev_button.setToolTip("Previous image (Left)")
        self.next_button.setToolTip("Next image (Right)")
        self.prev_button.clicked.connect(lambda: self.viewer.step.emit(-1))
        self.next_button.clicked.connect(lambda: self.viewer.step.emit(1))
        row.addWidget(self.prev_button)
        row.addWidget(self.next_button)
        lay.addLayout(row)
        lay.addWidget(self.tool_bar)  # the tools get a row of their own: nothing is cut
        self.tools_row = QWidget()
        self.class_row = QGridLayout(self.tools_row)  # CLASS_COLUMNS a row: many classes wrap
        self.class_row.setContentsMargins(0, 0, 0, 0)
        self.class_row.setSpacing(4)
        self.class_group = QButtonGroup(self)
        self.class_buttons: dict[int, QToolButton] = {}
        lay.addWidget(self.tools_row)
        self.note = WrapLabel(NEW_MASK_NOTE)
        self.note.setStyleSheet("color:#5f6b7a;")
        lay.addWidget(self.note)
        from gui.paint.assist import ModelAssist

        self.assist = ModelAssist(self)
        lay.addWidget(self.assist)
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color:#b42318;")
        lay.addWidget(self.problem)
        self.message.connect(self.problem.setText)
        self.size_box.setValue(self.size)
        self.tool_buttons[self.tool].setChecked(True)
        self._show_tools(False)

    # ------------------------------------------------------------------ set up
    def set_state(self, state) -> None:
        """The app state whose undo history records every stroke."""
        self.state = state
        state.changed.connect(self._on_changed)

    def set_project(self, project) -> None:
        self.project = project
        seg = project is not None and project.task == "segmentation"
        self.setVisible(seg)
        self.paint_button.setChecked(False)
        self.rebuild_classes()

    def _on_changed(self, kind: str, _ids) -> None:
        if kind == "classes":
            self.rebuild_classes()

    def rebuild_classes(self) -> None:
        """One button per class in its colour (key 1-9), and ignore (key 0)."""
        for b in self.class_buttons.values():
            self.class_group.removeButton(b)
            b.deleteLater()
        self.class_buttons = {}
        if self.project is None or self.project.task != "segmentation":
            return
        entries = [(c.position, c.name, c.color) for c in self.project.classes()]
        entries.append((IGNORE_INDEX, "ignore", IGNORE_COLOR))
        for i, (pos, name, color) in enumerate(entries):
            key = "0" if pos == IGNORE_INDEX else (str(pos + 1) if pos < 9 else "")
            b = QToolButton(text=f"{key} {name}".strip(), checkable=True)
            b.setStyleSheet(_chip_style(color))
            b.setToolTip(
                "Ignore: pixels training skips (not labeled) (0)"
                if pos == IGNORE_INDEX
                else f"Paint “{name}”" + (f" ({key})" if key else "")
            )
            b.clicked.connect(lambda _=False, v=pos: self.pick_class(v))
            self.class_group.addButton(b)
            self.class_row.addWidget(b, i // CLASS_COLUMNS, i % CLASS_COLUMNS)
            self.class_buttons[pos] = b
        if self.value not in self.class_buttons:
            self.value = 1 if 1 in self.class_buttons else entries[0][0]
        self.class_buttons[self.value].setChecked(True)

    def _show_tools(self, on: bool) -> None:
        parts = (self.tool_bar, self.tools_row, self.note, self.assist)
        for w in parts:
            w.setVisible(on)
        self.problem.setVisible(on)

    # ------------------------------------------------------------------ choices
    def set_painting(self, on: bool) -> None:
        """Turn the editor on (tools active, left button paints) or off (left button pans)."""
        self.painting = bool(on) and self.project is not None
        if self.paint_button.isChecked() != self.painting:
            self.paint_button.setChecked(self.painting)
        self._show_tools(self.painting)
        view = self.viewer.view
        view.setDragMode(view.DragMode.NoDrag if self.painting else view.DragMode.ScrollHandDrag)
        if not self.painting:
            self.cursor.hide()
            self.input.cancel_polygon()
        self.record_shown()
        self.assist.refresh()
        self.viewer.refresh_overlay()
        if self.painting:
            view.setFocus()

    def set_tool(self, name: str) -> None:
        self.input.cancel_polygon()
        self.tool = name
        self.tool_buttons[name].setChecked(True)
        self.cursor.setVisible(False)

    def set_size(self, size: int) -> None:
        self.size = max(1, min(500, int(size)))
        if self.size_box.value() != self.size:
            self.size_box.setValue(self.size)
        if self.cursor.isVisible():  # the outline follows [ and ] at once
            c = self.cursor.rect().center()
            self.hover(c.x(), c.y())

    def pick_class(self, value: int) -> None:
        if value not in self.class_buttons:
            self.message.emit(f"There is no class {value + 1}.")
            return
        self.value = value
        self.class_buttons[value].setChecked(True)
        if self.tool == "eraser":
            self.set_tool("brush")

    def paint_value(self) -> int:
        return IGNORE_INDEX if self.tool == "eraser" else self.value

    def record_shown(self) -> None:
        """A new image is shown: drop a half-drawn polygon, say if it cannot be painted."""
        self.input.cancel_polygon()
        self.assist.refresh()
        v = self.viewer
        problem = v.mask_problem if v.record is not None else ""
        self.problem.setText(
            f"Painting is off for this image: {problem}. Nothing will be overwritten."
            if problem
            else ""
        )

    def hover(self, x: float, y: float) -> None:
        """Show the brush outline under the mouse (brush and eraser)."""
        if self.tool in ("brush", "eraser") and self.viewer.record is not None:
            color = IGNORE_COLOR if self.tool == "eraser" else self._color(self.value)
            self.cursor.place(x, y, self.size, color)
        else:
            self.cursor.hide()

    def leave(self) -> None:
        """The pointer left the view: no brush outline hangs at its last place."""
        self.cursor.hide()

    def _color(self, value: int) -> str:
        for c in self.project.classes():
            if c.position == value:
                return c.color
        return IGNORE_COLOR

    # ------------------------------------------------------------------ painting
    def _start(self) -> np.ndarray | None:
        """The mask to paint on (a new all-ignore one if the image has none), with the state
        before the change kept for undo; None (and a message) if this image cannot be painted."""
        v = self.viewer
        if v.record is None or v._image is None or v.mask_problem:
            self.message.emit(
                f"Painting is off for this image: {v.mask_problem or 'no image'}. "
                "Nothing will be overwritten."
            )
            return None
        if v.mask is None:
            v.mask = np.full((v._image.height(), v._image.width()), IGNORE_INDEX, np.uint8)
            v.refresh_overlay()
            self._before = None
        else:
            self._before = v.mask.copy()
        return v.mask

    def begin_stroke(self, x: float, y: float) -> bool:
        mask = self._start()
        if mask is None:
            return False
        self._last = (x, y)
        self.viewer.overlay_item.refresh(
            tools.stroke(mask, (x, y), (x, y), self.size, self.paint_value())
        )
        return True

    def continue_stroke(self, x: float, y: float) -> None:
        box = tools.stroke(self.viewer.mask, self._last, (x, y), self.size, self.paint_value())
        self._last = (x, y)
        self.viewer.overlay_item.refresh(box)

    def end_stroke(self) -> None:
        self._commit(self.tool)

    def fill(self, x: float, y: float) -> None:
        mask = self._start()
        if mask is not None:
            within = None
            rgb = getattr(self.viewer, "rgb", None)
            xi, yi = int(x), int(y)
            inside = 0 <= yi < mask.shape[0] and 0 <= xi < mask.shape[1]
            if inside and mask[yi, xi] == IGNORE_INDEX and rgb is not None:
                within = tools.similar_colour(rgb, x, y)  # unlabeled: take what looks alike
            self.viewer.overlay_item.refresh(tools.flood(mask, x, y, self.paint_value(), within))
            self._commit("fill")

    def fill_polygon(self, points) -> None:
        mask = self._start()
        if mask is not None:
            self.viewer.overlay_item.refresh(tools.polygon(mask, points, self.paint_value()))
            self._commit("polygon")

    def replace_mask(self, new: np.ndarray, text: str) -> bool:
        """Put a whole mask in place (e.g. the model's prediction), as one undo step."""
        mask = self._start()
        if mask is None:
            return False
        if new.shape != mask.shape:
            self.message.emit(
                f"The new mask is {new.shape[::-1]} px, the image {mask.shape[::-1]}."
            )
            return False
        mask[:] = new
        self.viewer.overlay_item.refresh((0, 0, mask.shape[0], mask.shape[1]))
        return self._commit(text)

    def _commit(self, text: str) -> bool:
        """Save the mask as painted now: one undo step; on failure put the old pixels back."""
        v, before = self.viewer, self._before
        if self.state is None or v.record is None:
            return False
        rec_id, mask = v.record.id, v.mask
        if before is None and not (mask != IGNORE_INDEX).any():
            v.mask = None  # nothing painted on a new mask (a click outside, the eraser): no file
            v.refresh_overlay()
            return False
        t0 = time.perf_counter()
        try:
            with v.saving():
                self.state.edit(lambda h: h.paint_mask(rec_id, before, mask, text))
        except (ProjectError, OSError) as e:
            if before is None:
                v.mask = None
            else:
                mask[:] = before
            v.refresh_overlay()
            self.message.emit(f"Not saved: {e}")
            return False
        self.last_save_ms = (time.perf_counter() - t0) * 1000
        self.problem.setText("")
        return True

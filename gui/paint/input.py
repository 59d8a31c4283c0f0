"""Mouse and keys on the viewer while the mask editor is on: tools, zoom and pan side by side.

Left button paints with the current tool; the wheel still zooms (the view does that), and the
middle button or Space + left button pans, so nobody has to leave a tool to move around.
Keys: B brush, E eraser, F fill, P polygon, [ / ] brush size, 1-9 class, 0 ignore,
Enter closes a polygon, Backspace drops its last point, Esc cancels it.
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsPathItem, QGraphicsScene, QGraphicsView

TOOL_KEYS = {Qt.Key.Key_B: "brush", Qt.Key.Key_E: "eraser", Qt.Key.Key_F: "fill"}
TOOL_KEYS[Qt.Key.Key_P] = "polygon"
CLOSE_PX = 8  # a click this near (screen px) the first polygon point closes it


class PaintTarget(Protocol):
    """What the input drives: the mask editor, or a test's fake. The input never imports it."""

    IGNORE: int
    painting: bool
    tool: str
    size: int

    def set_tool(self, name: str) -> None: ...
    def set_size(self, size: int) -> None: ...
    def pick_class(self, value: int) -> None: ...
    def hover(self, x: float, y: float) -> None: ...
    def leave(self) -> None: ...
    def begin_stroke(self, x: float, y: float) -> bool: ...
    def continue_stroke(self, x: float, y: float) -> None: ...
    def end_stroke(self) -> None: ...
    def fill(self, x: float, y: float) -> None: ...
    def fill_polygon(self, points) -> None: ...


class PaintInput(QObject):
    """Event filter on the viewer's view (keys) and its viewport (mouse), driving a PaintTarget."""

    def __init__(
        self, target: PaintTarget, view: QGraphicsView, scene: QGraphicsScene, parent=None
    ):
        super().__init__(parent)
        self.target = target
        self.view = view
        self._pan_from: QPointF | None = None
        self._space = False
        self.stroking = False
        self.points: list[tuple[float, float]] = []  # polygon in progress
        self.outline = QGraphicsPathItem()
        pen = QPen(Qt.GlobalColor.white, 1.5, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        self.outline.setPen(pen)
        self.outline.setZValue(11)
        scene.addItem(self.outline)
        self.view.installEventFilter(self)
        self.view.viewport().installEventFilter(self)
        self.view.viewport().setMouseTracking(True)

    # ------------------------------------------------------------------ dispatch
    def eventFilter(self, obj, e) -> bool:  # noqa: N802 (Qt name)
        if not self.target.painting:
            return False
        t = e.type()
        if obj is self.view and t == QEvent.Type.KeyPress:
            return self._key(e)
        if obj is self.view and t == QEvent.Type.KeyRelease:
            if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
                self._space = False
                self.view.viewport().unsetCursor()
                return True
            return False
        if obj is not self.view.viewport():
            return False
        if t == QEvent.Type.MouseButtonPress:
            return self._press(e)
        if t == QEvent.Type.MouseMove:
            return self._move(e)
        if t == QEvent.Type.MouseButtonRelease:
            return self._release(e)
        if t == QEvent.Type.MouseButtonDblClick and self.target.tool == "polygon":
            self.close_polygon()
            return True
        if t == QEvent.Type.Leave:
            self.target.leave()
        return False

    def _scene(self, e) -> tuple[float, float]:
        p = self.view.mapToScene(e.position().toPoint())
        return p.x(), p.y()

    # ------------------------------------------------------------------ mouse
    def _press(self, e) -> bool:
        b = e.button()
        if b == Qt.MouseButton.MiddleButton or (b == Qt.MouseButton.LeftButton and self._space):
            self._pan_from = e.position()
            self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return True
        if b != Qt.MouseButton.LeftButton:
            return False
        self.view.setFocus()
        x, y = self._scene(e)
        tool = self.target.tool
        if tool in ("brush", "eraser"):
            self.stroking = self.target.begin_stroke(x, y)
        elif tool == "fill":
            self.target.fill(x, y)
        elif tool == "polygon":
            self._add_point(x, y)
        return True

    def _move(self, e) -> bool:
        if self._pan_from is not None:
            d = e.position() - self._pan_from
            self._pan_from = e.position()
            h, v = self.view.horizontalScrollBar(), self.view.verticalScrollBar()
            h.setValue(h.value() - round(d.x()))
            v.setValue(v.value() - round(d.y()))
            return True
        x, y = self._scene(e)
        self.target.hover(x, y)
        if self.stroking:
            self.target.continue_stroke(x, y)
            return True
        if self.points:
            self._draw_outline((x, y))
        return False

    def _release(self, e) -> bool:
        if self._pan_from is not None and e.button() in (
            Qt.MouseButton.MiddleButton,
            Qt.MouseButton.LeftButton,
        ):
            self._pan_from = None
            if self._space:
                self.view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.view.viewport().unsetCursor()
            return True
        if e.button() == Qt.MouseButton.LeftButton and self.stroking:
            self.stroking = False
            self.target.end_stroke()
            return True
        return e.button() == Qt.MouseButton.LeftButton

    # ------------------------------------------------------------------ polygon
    def _add_point(self, x: float, y: float) -> None:
        if len(self.points) >= 3:
            first = self.view.mapFromScene(QPointF(*self.points[0]))
            here = self.view.mapFromScene(QPointF(x, y))
            if (first - here).manhattanLength() <= CLOSE_PX:
                self.close_polygon()
                return
        self.points.append((x, y))
        self._draw_outline()

    def close_polygon(self) -> None:
        pts, self.points = self.points, []
        self._draw_outline()
        if len(pts) >= 3:
            self.target.fill_polygon(pts)

    def cancel_polygon(self) -> bool:
        had = bool(self.points)
        self.points = []
        self._draw_outline()
        return had

    def _draw_outline(self, hover: tuple[float, float] | None = None) -> None:
        path = QPainterPath()
        pts = self.points + ([hover] if hover and self.points else [])
        for i, (x, y) in enumerate(pts):
            path.moveTo(x, y) if i == 0 else path.lineTo(x, y)
        self.outline.setPath(path)

    # ------------------------------------------------------------------ keys
    def _key(self, e) -> bool:
        key, mods = e.key(), e.modifiers()
        if self.stroking:
            return True  # no image switch or tool change in the middle of a stroke
        if mods & ~Qt.KeyboardModifier.KeypadModifier:
            return False  # Ctrl+Z and friends belong to the window
        ed = self.target
        if key == Qt.Key.Key_Space:
            if not e.isAutoRepeat():
                self._space = True
                self.view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return True
        if key in TOOL_KEYS:
            ed.set_tool(TOOL_KEYS[key])
        elif key == Qt.Key.Key_BracketLeft:
            ed.set_size(ed.size - max(1, ed.size // 5))
        elif key == Qt.Key.Key_BracketRight:
            ed.set_size(ed.size + max(1, ed.size // 5))
        elif Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            ed.pick_class(int(key - Qt.Key.Key_1))
        elif key == Qt.Key.Key_0:
            ed.pick_class(ed.IGNORE)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.points:
            self.close_polygon()
        elif key == Qt.Key.Key_Backspace and self.points:
            self.points.pop()
            self._draw_outline()
        elif key == Qt.Key.Key_Escape and self.points:
            self.cancel_polygon()
        else:
            return False
        return True

"""The paint input on its own: a plain view and scene and a fake target, no mask editor.

It is what gui.paint's acyclic contract needs (the input drives a PaintTarget and never imports
the editor); the test shows the input still turns keys and mouse into the target's calls."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

from gui.paint.input import PaintInput


class FakeTarget:
    IGNORE = 255

    def __init__(self):
        self.painting = True
        self.tool = "brush"
        self.size = 10
        self.calls: list[tuple] = []

    def set_tool(self, name):
        self.tool = name
        self.calls.append(("tool", name))

    def set_size(self, size):
        self.size = size
        self.calls.append(("size", size))

    def pick_class(self, value):
        self.calls.append(("class", value))

    def hover(self, x, y):
        pass

    def leave(self):
        pass

    def begin_stroke(self, x, y):
        self.calls.append(("begin", round(x), round(y)))
        return True

    def continue_stroke(self, x, y):
        self.calls.append(("continue",))

    def end_stroke(self):
        self.calls.append(("end",))

    def fill(self, x, y):
        self.calls.append(("fill", round(x), round(y)))

    def fill_polygon(self, points):
        self.calls.append(("polygon", len(points)))


@pytest.fixture
def wire(qtbot):
    """A shown 100 px scene in a view; wire(target) puts a PaintInput between them."""
    scene = QGraphicsScene(0, 0, 100, 100)
    view = QGraphicsView(scene)
    qtbot.addWidget(view)
    view.resize(200, 200)
    view.show()
    qtbot.waitExposed(view)
    made = []

    def make(target):
        made.append(PaintInput(target, view, scene))
        view.setFocus()
        return view

    yield make
    for inp in made:  # the view goes at teardown; its last events must not reach the input
        view.removeEventFilter(inp)
        view.viewport().removeEventFilter(inp)


def test_keys_and_mouse_reach_the_target_without_an_editor(wire):
    target = FakeTarget()
    view = wire(target)
    QTest.keyClick(view, Qt.Key.Key_F)
    QTest.keyClick(view, Qt.Key.Key_3)
    QTest.keyClick(view, Qt.Key.Key_0)
    QTest.keyClick(view, Qt.Key.Key_BracketRight)
    assert target.calls[:4] == [("tool", "fill"), ("class", 2), ("class", 255), ("size", 12)]

    at = view.mapFromScene(QPointF(40, 60))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert target.calls[-1] == ("fill", 40, 60)

    target.calls.clear()
    QTest.keyClick(view, Qt.Key.Key_B)
    QTest.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    assert target.calls[0] == ("tool", "brush")
    assert target.calls[1] == ("begin", 40, 60) and target.calls[-1] == ("end",)


def test_nothing_reaches_the_target_while_painting_is_off(wire):
    target = FakeTarget()
    target.painting = False
    view = wire(target)
    QTest.keyClick(view, Qt.Key.Key_E)
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(QPointF(5, 5))
    )
    assert target.calls == []

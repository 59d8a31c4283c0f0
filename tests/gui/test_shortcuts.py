"""Window-wide shortcuts work wherever the focus is: Ctrl+Z with the filter box focused undoes
the last removal (as Edit ▸ Undo says), Ctrl+W with the image viewer open closes the project
(as File ▸ Close project says)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from engine.project.demo import create_demo_project
from tests.support.qt import shown_main_window

CTRL = Qt.KeyboardModifier.ControlModifier


def _opened(qtbot, tmp_path):
    create_demo_project(tmp_path / "demo", "classification", n=12, size=32).close()
    w = shown_main_window(qtbot)
    w.activateWindow()
    assert w.projects.open_project(str(tmp_path / "demo"))
    qtbot.waitUntil(lambda: w.data_page.model.rowCount() == 12, timeout=10000)
    return w


def test_ctrl_z_in_the_filter_box_undoes_the_last_removal(qtbot, tmp_path):
    w = _opened(qtbot, tmp_path)
    data = w.data_page
    data.filters.text.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is data.filters.text, timeout=5000)
    w.state.edit(lambda h: h.remove_images([w.project.images()[0].id]))  # Edit ▸ Remove
    assert w.project.count() == 11 and w.menus.act_undo.text() == "&Undo remove 1 image"
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Z, CTRL)
    assert w.project.count() == 12
    QTest.keyClick(
        QApplication.focusWidget(), Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier
    )
    assert w.project.count() == 11  # redo too
    QTest.keyClicks(data.filters.text, "img")  # typing in the box still types
    assert data.filters.text.text() == "img"


def test_ctrl_w_with_the_viewer_open_closes_the_project(qtbot, tmp_path):
    w = _opened(qtbot, tmp_path)
    data = w.data_page
    data.open_viewer(data.model.index(0, 0))
    assert data.viewer.isVisible()
    data.viewer.view.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is data.viewer.view, timeout=5000)
    QTest.keyClick(data.viewer.view, Qt.Key.Key_W, CTRL)
    assert w.project is None and w.stack.currentWidget() is w.start_page

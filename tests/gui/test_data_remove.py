"""Removing images on the Data page: select, press Delete (real key events), confirm; the
project's copies go, the user's originals stay; Ctrl+Z brings them back. Also the right-click
menu and Edit > Remove from project…."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.imaging import file_sha1
from engine.imports.api import import_folder
from engine.project.store import Project
from tests.gui.test_labeling import select_rows
from tests.support.qt import shown_main_window

CTRL = Qt.KeyboardModifier.ControlModifier


def _imported(tmp_path) -> tuple[Project, dict[Path, str]]:
    """A project with 6 images imported from cat/ and dog/ folders, and those originals."""
    files = []
    for i in range(6):
        f = tmp_path / "photos" / ("cat", "dog")[i % 2] / f"p{i}.png"
        f.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(i)
        Image.fromarray(rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)).save(f)
        files.append(f)
    p = Project.create(tmp_path / "p", "classification")
    import_folder(p, tmp_path / "photos")
    return p, {f: file_sha1(f) for f in files}


def test_delete_key_removes_after_confirm_and_ctrl_z_restores(page, qtbot, tmp_path, monkeypatch):
    p, originals = _imported(tmp_path)
    page.set_project(p)
    asked = []
    monkeypatch.setattr(page.edits, "confirm_remove", lambda n: asked.append(n) or True)
    select_rows(page, [1, 2])
    gone = page.edits.selected_ids()
    copies = [p.abspath(r.file) for r in p.images(gone)]
    page.browser.setFocus()

    qtbot.keyClick(page.browser, Qt.Key.Key_Delete)
    assert asked == [2] and p.count() == 4
    assert not any(c.exists() for c in copies)
    assert page.model.rowCount() == 4 and page.browser.currentIndex().isValid()
    assert {f: file_sha1(f) for f in originals} == originals  # the user's files are untouched

    qtbot.keyClick(page.browser, Qt.Key.Key_Z, CTRL)
    assert p.count() == 6 and all(c.is_file() for c in copies)
    qtbot.waitUntil(lambda: page.model.rowCount() == 6)
    qtbot.keyClick(page.browser, Qt.Key.Key_Z, CTRL | Qt.KeyboardModifier.ShiftModifier)
    assert p.count() == 4

    monkeypatch.setattr(page.edits, "confirm_remove", lambda n: False)  # the user cancels
    select_rows(page, [0])
    qtbot.keyClick(page.browser, Qt.Key.Key_Delete)
    assert p.count() == 4


def test_the_confirm_says_originals_are_kept_and_removes_on_remove(page, qtbot, tmp_path):
    p, _ = _imported(tmp_path)
    page.set_project(p)
    box = page.edits.remove_box(3)
    assert "Remove 3 images" in box.text()
    assert "original files are not touched" in box.informativeText()
    assert box.defaultButton().text() == "Remove"
    box.deleteLater()
    seen = []

    def answer() -> None:
        dlg = QApplication.activeModalWidget()
        if not isinstance(dlg, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(dlg.text())
        dlg.defaultButton().click()

    select_rows(page, [0])
    QTimer.singleShot(0, answer)
    qtbot.keyClick(page.browser, Qt.Key.Key_Delete)
    assert seen == ["Remove 1 image from the project?"] and p.count() == 5


def test_menus_offer_remove_and_window_undo_restores(qtbot, tmp_path, monkeypatch):
    w = shown_main_window(qtbot)
    p, _ = _imported(tmp_path)
    p.close()
    w.projects.open_project(tmp_path / "p")
    page = w.data_page
    monkeypatch.setattr(page.edits, "confirm_remove", lambda n: True)
    select_rows(page, [0, 1, 2])
    texts = [a.text() for a in page.edits.build_context_menu().actions()]
    assert "Remove from project…\tDel" in texts
    w._update_actions()
    assert w.menus.act_remove.isEnabled()
    w.menus.act_remove.trigger()
    assert w.project.count() == 3
    w._update_actions()
    assert w.menus.act_undo.text() == "&Undo remove 3 images"
    w.menus.act_undo.trigger()
    assert w.project.count() == 6

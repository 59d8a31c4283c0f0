"""A new user's whole path from nothing to a labeled project, through the real widgets:
start the app, make a classification project, drop a folder of unlabeled images, create two
classes, label by dragging thumbnails onto a class and by number keys, undo one change, quit,
start again, reopen the project from the recent list: the labels are there."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtWidgets import QDialog

from tests.support.qt import drop_files, send_drag, shown_main_window

BUTTONS = Qt.MouseButton.LeftButton


def write_unlabeled(folder: Path, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        arr = np.random.default_rng(i).integers(0, 255, (20, 20, 3), dtype=np.uint8)
        Image.fromarray(arr).save(folder / f"photo_{i}.png")


def test_new_user_labels_a_project_and_finds_it_again(qtbot, tmp_path, monkeypatch):
    from gui.start import page as start_page

    photos = tmp_path / "my photos"
    write_unlabeled(photos, 6)
    where = tmp_path / "projects"

    def fill_in(dlg):  # what the user types into the New project dialog
        dlg.name_edit.setText("fruit")
        dlg.location_edit.setText(str(where))
        dlg.task_buttons["classification"].setChecked(True)
        assert dlg.buttons.buttons()[0].isEnabled()
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(start_page.NewProjectDialog, "exec", fill_in)

    # 1. start the app; first launch shows the start page
    w = shown_main_window(qtbot)
    assert w.stack.currentWidget() is w.start_page
    qtbot.mouseClick(w.start_page.new_button, BUTTONS)
    assert w.project is not None and w.project.task == "classification"
    assert w.project.count() == 0

    # 2. drop the folder of unlabeled images onto the window
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        assert drop_files(w, [photos])
    p = w.project
    assert p.count() == 6 and p.counts().unlabeled == 6
    w.imports.report_dialog.close()

    # 3. two classes, made with the + button of the class panel
    page = w.data_page
    names = iter(["apple", "pear"])
    monkeypatch.setattr(page.panel, "ask_text", lambda *a, **k: next(names))
    qtbot.mouseClick(page.panel.add_button, BUTTONS)
    qtbot.mouseClick(page.panel.add_button, BUTTONS)
    assert p.class_names() == ["apple", "pear"]

    # 4. label: drag two thumbnails onto "apple"
    browser, model = page.browser, page.browser.model()
    qtbot.waitUntil(lambda: model.rowCount() == 6, timeout=5000)
    ids = [model.id_at(r) for r in range(6)]
    drag = model.mimeData([model.index(0, 0), model.index(1, 0)])
    lst = page.panel.list
    apple_row = next(i for i in range(lst.count()) if "apple" in lst.item(i).text())
    pos = lst.visualItemRect(lst.item(apple_row)).center()
    assert send_drag(lst.viewport(), pos, drag)
    assert [p.image(i).labels for i in ids[:2]] == [("apple",), ("apple",)]

    # ... and with number keys: select an image, press 2 (pear), then another, press 1 (apple)
    def key_label(image_id: int, key) -> None:
        idx = model.index(model.row_of(image_id), 0)
        browser.selectionModel().setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )
        browser.setFocus()
        qtbot.keyClick(browser, key)

    key_label(ids[2], Qt.Key.Key_2)
    assert p.image(ids[2]).labels == ("pear",)
    key_label(ids[3], Qt.Key.Key_1)
    assert p.image(ids[3]).labels == ("apple",)

    # 5. undo the last change with Ctrl+Z
    qtbot.keyClick(browser, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert p.image(ids[3]).labels == ()
    assert p.image(ids[2]).labels == ("pear",)
    assert w.menus.act_redo.isEnabled()
    project_path = p.path

    # 6. quit, start again, reopen from the recent list: the labels are there
    w.close()
    assert not w.isVisible() and w.project is None
    w2 = shown_main_window(qtbot)
    recent = w2.start_page.recent_list
    assert w2.start_page.recent_paths()[0] == str(project_path)
    rect = recent.visualItemRect(recent.item(0))
    qtbot.mouseClick(recent.viewport(), BUTTONS, pos=rect.center())
    qtbot.waitUntil(lambda: w2.project is not None, timeout=5000)
    q = w2.project
    labels = [q.image(i).labels for i in ids]
    assert labels == [("apple",), ("apple",), ("pear",), (), (), ()]
    assert q.counts().per_class == {"apple": 2, "pear": 1}
    assert "3 unlabeled" in w2.project_label.text()
    # the user's folder was never touched
    assert sorted(f.name for f in photos.iterdir()) == [f"photo_{i}.png" for i in range(6)]

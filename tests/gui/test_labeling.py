"""Labelling from the Data page: drag onto a class, number keys, undo/redo, values, splits."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QMimeData, Qt

from tests.support.projects import make_labeled_project
from tests.support.qt import drag_and_drop

SEL = QItemSelectionModel.SelectionFlag


def select_rows(page, rows) -> None:
    sm = page.browser.selectionModel()
    sm.clearSelection()
    for r in rows:
        sm.select(page.model.index(r), SEL.Select)
    page.browser.setCurrentIndex(page.model.index(rows[-1]))
    sm.select(page.model.index(rows[0]), SEL.Select)
    for r in rows:
        sm.select(page.model.index(r), SEL.Select)


def labels_of(project) -> dict[str, tuple[str, ...]]:
    return {r.name: r.labels for r in project.images()}


def drop_on_class(panel, name: str, mime: QMimeData) -> QEvent:
    """A real drag-enter / drag-move / drop sequence onto the row of class `name`; the last
    event sent (isAccepted(): the drop was taken)."""
    lst = panel.list
    row = next(i for i in range(lst.count()) if lst.item(i).data(Qt.ItemDataRole.UserRole) == name)
    return drag_and_drop(lst.viewport(), lst.visualItemRect(lst.item(row)).center(), mime)


def test_dragging_selected_thumbnails_onto_a_class_labels_them(page, qtbot, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=5)
    page.set_project(p)
    select_rows(page, [1, 3])
    indexes = page.browser.selectionModel().selectedIndexes()
    mime = page.model.mimeData(indexes)  # exactly what QAbstractItemView.startDrag sends
    drop = drop_on_class(page.panel, "dog", mime)
    assert drop.isAccepted()
    assert labels_of(p) == {
        "img_000.png": (),
        "img_001.png": ("dog",),
        "img_002.png": (),
        "img_003.png": ("dog",),
        "img_004.png": (),
    }
    counts = {
        page.panel.list.item(i).text(): page.panel.list.item(i).data(Qt.ItemDataRole.UserRole + 2)
        for i in range(page.panel.list.count())
    }
    qtbot.waitUntil(lambda: page.panel.list.item(1).data(Qt.ItemDataRole.UserRole + 2) == 2)
    assert counts  # the panel shows counts for every class
    # the tile updated in place
    rec = page.model.index(1).data(page.model.RecordRole)
    assert rec.labels == ("dog",)
    # a drop that is not from the browser is refused
    other = QMimeData()
    other.setText("hello")
    assert not drop_on_class(page.panel, "cat", other).isAccepted()


def test_number_keys_label_and_undo_redo_restore(page, qtbot, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=4, labels=[["dog"], None, None, None])
    page.set_project(p)
    page.browser.setFocus()
    select_rows(page, [0, 1])
    qtbot.keyClick(page.browser, Qt.Key.Key_1)  # class 1 = cat
    assert labels_of(p)["img_000.png"] == ("cat",)
    assert labels_of(p)["img_001.png"] == ("cat",)
    select_rows(page, [2])
    qtbot.keyClick(page.browser, Qt.Key.Key_2)
    assert labels_of(p)["img_002.png"] == ("dog",)
    select_rows(page, [0])
    qtbot.keyClick(page.browser, Qt.Key.Key_0)
    assert labels_of(p)["img_000.png"] == ()
    qtbot.keyClick(page.browser, Qt.Key.Key_9)  # no 9th class: nothing changes
    assert labels_of(p)["img_000.png"] == ()

    qtbot.keyClick(page.browser, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert labels_of(p)["img_000.png"] == ("cat",)
    page.state.undo()
    assert labels_of(p)["img_002.png"] == ()
    page.state.undo()
    assert labels_of(p) == {
        "img_000.png": ("dog",),
        "img_001.png": (),
        "img_002.png": (),
        "img_003.png": (),
    }
    assert not page.state.history.can_undo
    qtbot.keyClick(
        page.browser,
        Qt.Key.Key_Z,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert labels_of(p)["img_001.png"] == ("cat",)
    page.state.redo()
    page.state.redo()
    assert labels_of(p)["img_000.png"] == ()
    assert labels_of(p)["img_002.png"] == ("dog",)
    assert page.model.index(2).data(page.model.RecordRole).labels == ("dog",)


def test_labelling_in_the_unlabeled_filter_moves_on_to_the_next_image(page, qtbot, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=4)
    page.set_project(p)
    page.filters.label.setCurrentIndex(page.filters.label.findText("Unlabeled"))
    page.browser.setFocus()
    select_rows(page, [0])
    resets = []
    page.model.modelReset.connect(lambda: resets.append(1))
    qtbot.keyClick(page.browser, Qt.Key.Key_1)
    assert page.model.rowCount() == 3 and resets == []
    assert page.browser.selected_ids() == [p.query()[1]]  # the next unlabeled image
    qtbot.keyClick(page.browser, Qt.Key.Key_2)
    assert [r.labels for r in p.images()] == [("cat",), ("dog",), (), ()]
    assert page.filters.count.text() == "2 of 4 images"
    page.state.undo()  # the image comes back into the filtered view
    assert page.model.rowCount() == 3


def test_multilabel_keys_and_drops_toggle(page, tmp_path):
    p = make_labeled_project(
        tmp_path / "p",
        task="multilabel",
        n=3,
        classes=("sky", "tree"),
        labels=[["sky"], ["sky", "tree"], None],
    )
    page.set_project(p)
    select_rows(page, [0, 2])
    page.edits.label_with_key(2)  # add 'tree' to both
    assert [r.labels for r in p.images()] == [("sky", "tree"), ("sky", "tree"), ("tree",)]
    page.edits.label_with_key(2)  # all have it: remove it
    assert [r.labels for r in p.images()] == [("sky",), ("sky", "tree"), ()]
    drop_on_class(page.panel, "sky", page.model.mimeData([page.model.index(2)]))
    assert p.images()[2].labels == ("sky",)
    page.state.undo()
    assert p.images()[2].labels == ()


def test_regression_values_and_splits(page, qtbot, tmp_path):
    p = make_labeled_project(tmp_path / "p", task="regression", n=3, values=[1.5, None, None])
    page.set_project(p)
    select_rows(page, [1, 2])
    box = page.panel.values._boxes[0]
    box.setText("4.25")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert [r.values for r in p.images()] == [(1.5,), (4.25,), (4.25,)]
    assert page.model.index(1).data(page.model.RecordRole).values == (4.25,)
    page.state.undo()
    assert [r.values for r in p.images()] == [(1.5,), None, None]
    box.setText("not a number")
    page.panel.values.apply()
    assert "number" in page.panel.values.error.text()

    page.edits.move_selected_to("test")
    assert [r.split for r in p.images()] == ["train", "test", "test"]
    page.filters.split.setCurrentIndex(page.filters.split.findData("test"))
    assert page.model.rowCount() == 2
    page.state.undo()
    assert [r.split for r in p.images()] == ["train"] * 3
    assert page.model.rowCount() == 0


def test_resplit_is_seeded_and_stratified(page, tmp_path):
    labels = [["cat"]] * 10 + [["dog"]] * 10
    p = make_labeled_project(tmp_path / "p", n=20, labels=labels)
    page.set_project(p)
    page.edits.resplit_with(0.2, 0.0, 7)
    first = [r.split for r in p.images()]
    assert first[:10].count("valid") == 2 and first[10:].count("valid") == 2
    page.edits.resplit_with(0.2, 0.0, 7)
    assert [r.split for r in p.images()] == first
    assert "4 valid" in page.filters.count.text() or page.model.rowCount() == 20


def test_context_menu_offers_labels_and_split_moves(page, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=2)
    page.set_project(p)
    select_rows(page, [0])
    menu = page.edits.build_context_menu()
    texts = [a.text() for a in menu.actions()]
    assert "Move to valid" in texts and "Re-split automatically…" in texts
    label_menu = next(a.menu() for a in menu.actions() if a.text() == "Label as")
    dog = next(a for a in label_menu.actions() if a.text().startswith("dog"))
    dog.trigger()
    assert p.images()[0].labels == ("dog",)
    next(a for a in menu.actions() if a.text() == "Move to valid").trigger()
    assert p.images()[0].split == "valid"

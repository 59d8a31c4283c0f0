"""The class panel: counts, create, rename (in place), recolour, merge, delete."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit

from gui.data.class_panel import COUNT, NAME, UNLABELED
from tests.support.projects import make_labeled_project, make_seg_project


def rows(panel) -> dict[str, int | None]:
    lst = panel.list
    return {lst.item(i).data(NAME): lst.item(i).data(COUNT) for i in range(lst.count())}


def item_of(panel, name):
    lst = panel.list
    return next(lst.item(i) for i in range(lst.count()) if lst.item(i).data(NAME) == name)


def test_counts_and_key_hints(page, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=5, labels=[["cat"], ["cat"], ["dog"], None, None])
    page.set_project(p)
    assert rows(page.panel) == {"cat": 2, "dog": 1, UNLABELED: 2}
    assert item_of(page.panel, "dog").data(Qt.ItemDataRole.UserRole + 3) == "2"


def test_create_and_rename_in_place(page, qtbot, tmp_path, monkeypatch):
    p = make_labeled_project(tmp_path / "p", n=3, labels=[["cat"], None, None])
    page.set_project(p)
    monkeypatch.setattr(page.panel, "ask_text", lambda *a, **k: "bird")
    page.panel.add_button.click()
    assert p.class_names() == ["cat", "dog", "bird"]
    assert page.filters.label.findData("bird") >= 0  # the filter offers the new class

    lst = page.panel.list
    lst.editItem(item_of(page.panel, "cat"))  # what a double-click does
    editor = lst.findChild(QLineEdit)
    assert editor is not None
    editor.setText("kitten")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: p.class_names() == ["kitten", "dog", "bird"])
    assert p.images()[0].labels == ("kitten",)
    qtbot.waitUntil(lambda: "kitten" in rows(page.panel))
    assert page.model.class_colors.get("kitten") is not None
    # renaming onto an existing name is refused with a message, nothing changes
    messages = []
    page.status_message.connect(messages.append)
    assert not page.panel.rename_class("kitten", "dog")
    assert "already exists" in messages[-1]
    assert p.class_names() == ["kitten", "dog", "bird"]


def test_recolour(page, tmp_path, monkeypatch):
    p = make_labeled_project(tmp_path / "p", n=2)
    page.set_project(p)
    monkeypatch.setattr(page.panel, "ask_color", lambda initial: "#123456")
    page.panel.recolor_ui("dog")
    assert {c.name: c.color for c in p.classes()}["dog"] == "#123456"
    assert page.model.class_colors["dog"].name() == "#123456"


def test_merge_selected_classes(page, tmp_path, monkeypatch):
    p = make_labeled_project(
        tmp_path / "p",
        n=4,
        classes=("cat", "dog", "kitty"),
        labels=[["cat"], ["kitty"], ["dog"], ["kitty"]],
    )
    page.set_project(p)
    panel = page.panel
    monkeypatch.setattr(panel, "ask_choice", lambda title, label, items: "cat")
    item_of(panel, "cat").setSelected(True)
    item_of(panel, "kitty").setSelected(True)
    panel.merge_ui()
    assert p.class_names() == ["cat", "dog"]
    assert [r.labels for r in p.images()] == [("cat",), ("cat",), ("dog",), ("cat",)]
    assert rows(panel) == {"cat": 3, "dog": 1, UNLABELED: 0}


def test_delete_asks_and_leaves_images_unlabeled(page, tmp_path, monkeypatch):
    p = make_labeled_project(tmp_path / "p", n=3, labels=[["cat"], ["dog"], ["dog"]])
    page.set_project(p)
    panel = page.panel
    item_of(panel, "dog").setSelected(True)
    asked = []
    monkeypatch.setattr(panel, "confirm", lambda title, text: asked.append(text) or False)
    panel.delete_ui()
    assert p.class_names() == ["cat", "dog"]  # said no: nothing happened
    assert "2 labels" in asked[0]
    monkeypatch.setattr(panel, "confirm", lambda title, text: True)
    item_of(panel, "dog").setSelected(True)
    panel.delete_ui()
    assert p.class_names() == ["cat"]
    assert [r.labels for r in p.images()] == [("cat",), (), ()]
    assert rows(panel) == {"cat": 1, UNLABELED: 2}
    assert page.model.index(1).data(page.model.RecordRole).labels == ()


def test_segmentation_classes_cannot_be_deleted_or_dropped_on(page, tmp_path):
    p, _ = make_seg_project(tmp_path / "s")
    page.set_project(p)
    assert page.panel.title.text() == "Mask classes"
    assert not page.panel.list.accept_drops_on_classes
    messages = []
    page.panel.message.connect(messages.append)
    assert not page.panel.delete_classes(["car"])
    assert "mask values" in messages[-1]
    assert p.class_names() == ["background", "road", "car"]
    assert page.panel.rename_class("car", "vehicle")
    assert p.class_names() == ["background", "road", "vehicle"]

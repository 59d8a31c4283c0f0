"""Undo / redo of label, value and split edits: every undo puts back exactly what was there."""

from __future__ import annotations

import pytest

from engine.project.history import History
from engine.project.store import NewImage, Project, ProjectError


def _project(tmp_path, task="classification", n=4):
    p = Project.create(tmp_path / "p", task)
    if task != "regression":
        p.ensure_classes(["cat", "dog", "bird"])
    ids = p.add_images(
        [NewImage(f"images/{i}.png", f"{i}.png", "", f"sha{i}", 8, 8) for i in range(n)]
    )
    return p, ids


def test_label_undo_redo_restores_each_image(tmp_path):
    p, ids = _project(tmp_path)
    p.set_labels(ids[:1], ["dog"])
    h = History(p)
    assert not h.can_undo and not h.can_redo
    h.set_labels(ids[:3], ["cat"])
    assert h.undo_text == "label 3 images as cat"
    assert [r.labels for r in p.images(ids)] == [("cat",), ("cat",), ("cat",), ()]
    assert h.undo() == "label 3 images as cat"
    assert [r.labels for r in p.images(ids)] == [("dog",), (), (), ()]
    assert h.can_redo and h.redo_text == "label 3 images as cat"
    h.redo()
    assert [r.labels for r in p.images(ids)] == [("cat",), ("cat",), ("cat",), ()]
    # saved at once: a fresh Project sees the same
    p2 = Project.open(p.path)
    assert p2.image(ids[0]).labels == ("cat",)
    p2.close()


def test_new_change_clears_redo_and_limit_applies(tmp_path):
    p, ids = _project(tmp_path)
    h = History(p, limit=3)
    for lab in ["cat", "dog", "bird", "cat", "dog"]:
        h.set_labels(ids[:1], [lab])
    n = 0
    while h.can_undo:
        h.undo()
        n += 1
    assert n == 3
    assert p.image(ids[0]).labels == ("dog",)  # state before the 3 kept steps
    h.redo()
    assert h.can_redo
    h.set_labels(ids[1:2], [])
    assert not h.can_redo
    assert h.undo_text == "unlabel 1 image"


def test_toggle_label_multilabel(tmp_path):
    p, ids = _project(tmp_path, "multilabel")
    p.set_labels(ids[:2], ["cat", "dog"])
    h = History(p)
    h.toggle_label(ids[:3], "dog", False)
    assert h.undo_text == "remove label dog from 3 images"
    assert [r.labels for r in p.images(ids[:3])] == [("cat",), ("cat",), ()]
    h.undo()
    assert [r.labels for r in p.images(ids[:3])] == [("cat", "dog"), ("cat", "dog"), ()]
    h.toggle_label(ids[2:3], "bird", True)
    assert h.undo_text == "add label bird to 1 image"
    assert p.image(ids[2]).labels == ("bird",)


def test_values_and_splits(tmp_path):
    p, ids = _project(tmp_path, "regression")
    p.set_values(ids[:1], [1.5])
    h = History(p)
    h.set_values(ids[:2], [3])
    assert h.undo_text == "set the value of 2 images to 3"
    assert [r.values for r in p.images(ids[:2])] == [(3.0,), (3.0,)]
    h.undo()
    assert [r.values for r in p.images(ids[:2])] == [(1.5,), None]

    p.assign_splits(0.5, seed=1)
    before = {r.id: r.split for r in p.images(ids)}
    h.set_split(ids, "test")
    assert h.undo_text == "move 4 images to test"
    assert {r.split for r in p.images(ids)} == {"test"}
    h.undo()
    assert {r.id: r.split for r in p.images(ids)} == before
    # undo also gave back the automatic lock level: re-assignment may move them again
    assert p.split_state(ids)[ids[0]][1] == 1


def test_failed_change_is_not_recorded(tmp_path):
    p, ids = _project(tmp_path)
    h = History(p)
    with pytest.raises(ProjectError):
        h.set_labels(ids[:1], ["no such class"])
    assert not h.can_undo
    assert h.undo() == "" and h.redo() == ""

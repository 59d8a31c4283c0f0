"""The Data page's helpers built alone, with the app state, a fake bridge and plain widgets (no
page): "Most uncertain first" (UncertainSort), "Label next" (LabelNext) and the editing actions
(DataActions) say what they did through signals, which is all the page wires (issue 21)."""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QWidget

from engine.events import Progress
from gui.data.actions import DataActions
from gui.data.browser import ImageBrowser
from gui.data.image_model import ImageListModel
from gui.data.label_next import LabelNext
from gui.data.uncertain import SORT_TEXT, TRAIN_FIRST, UncertainSort, rank_job
from gui.state import AppState
from tests.support.projects import make_labeled_project
from tests.support.qt import FakeBridge


def _open(tmp_path, qtbot, labels, *, model: bool = True):
    """The state with a classification project (`labels` per image), a models/best.pt the
    model-in-use check sees (the ranking itself is faked) and a plain parent widget."""
    p = make_labeled_project(tmp_path / "p", n=len(labels), labels=labels)
    if model:
        (p.path / "models").mkdir(exist_ok=True)
        (p.path / "models" / "best.pt").write_bytes(b"stands in for a model")
    state = AppState()
    state.set_project(p)
    parent = QWidget()
    qtbot.addWidget(parent)
    return p, state, parent


def _record(signal) -> list:
    got: list = []
    signal.connect(lambda *a: got.append(a if len(a) != 1 else a[0]))
    return got


def test_uncertain_sort_ranks_on_the_bridge_and_orders_the_unlabeled(qtbot, tmp_path):
    p, state, parent = _open(tmp_path, qtbot, [None, None, ["cat"], None])
    bridge = FakeBridge()
    sort = UncertainSort(state, bridge, parent)
    said, ready = _record(sort.message), _record(sort.ranked)
    sort.button.click()
    ((name, fn, args),) = bridge.submitted
    assert name == "rank" and fn is rank_job and args == (p,)
    assert sort.running and sort.button.text() == "Stop ranking"
    sort.button.click()  # while it runs the button stops it
    assert bridge.cancels == 1

    job = bridge.job("rank")
    job.events.emit([Progress(1, 3, "Ranking 1 of 3 unlabeled images")])
    assert said == ["Ranking 1 of 3 unlabeled images"]
    a, b, d = p.query(unlabeled=True)
    job.finished.emit([(d, 0.9), (a, 0.5), (b, 0.1)])
    assert ready == [True] and not sort.running and sort.button.text() == SORT_TEXT
    assert sort.fresh()
    assert sort.order([a, b, d], unlabeled_shown=True) == [d, a, b]
    assert sort.order([a, b, d], unlabeled_shown=False) == [a, b, d]  # another filter: off
    assert sort.order([a, b, d], unlabeled_shown=True) == [a, b, d]  # and it stays off
    state.changed.emit("images", None)  # images came: the ranking misses some
    assert not sort.fresh()

    job.failed.emit("the model file is damaged")
    assert said[-1] == "Cannot rank: the model file is damaged"
    state.set_project(None)
    p.close()


def test_uncertain_sort_without_a_model_asks_to_train_first(qtbot, tmp_path):
    p, state, parent = _open(tmp_path, qtbot, [None, None], model=False)
    bridge = FakeBridge()
    sort = UncertainSort(state, bridge, parent)
    said, train = _record(sort.message), _record(sort.train_first)
    assert not sort.start()
    assert said == [TRAIN_FIRST] and train == [TRAIN_FIRST] and not bridge.submitted
    state.set_project(None)
    p.close()


def test_label_next_opens_the_most_uncertain_unlabeled_image(qtbot, tmp_path):
    p, state, parent = _open(tmp_path, qtbot, [None, ["cat"], None, None])
    bridge = FakeBridge()
    sort = UncertainSort(state, bridge, parent)
    nxt = LabelNext(state, sort, parent)
    opened, said, sorted_ = _record(nxt.open_image), _record(nxt.message), _record(sort.ranked)
    assert nxt.shortcut.key().toString() == "N" and nxt.shortcut.parent() is parent
    assert nxt.trigger()  # no ranking yet: rank first
    assert len(bridge.submitted) == 1 and opened == []
    a, c, d = p.query(unlabeled=True)
    bridge.job("rank").finished.emit([(c, 0.8), (d, 0.6), (a, 0.2)])
    assert sorted_ == [False]  # the grid keeps its order; Label next takes the ranking
    assert opened == [c]
    short, full = said[-1]
    assert short == "Next: uncertainty 0.80"
    assert full.startswith(f"Label next: {p.image(c).name}, where the model is least sure")
    assert "Press its class number, then press N" in full

    state.edit(lambda h: h.set_labels([c], ["dog"]))  # labelled: the next N goes on at once
    assert nxt.trigger() and opened == [c, d] and len(bridge.submitted) == 1
    state.edit(lambda h: h.set_labels([d, a], ["dog"]))
    assert not nxt.trigger() and said[-1] == ("Every image is labelled.",) * 2
    state.set_project(None)
    assert not nxt.button.isVisibleTo(parent) and not nxt.shortcut.isEnabled()
    p.close()


def test_label_next_without_a_model_asks_to_train_first(qtbot, tmp_path):
    p, state, parent = _open(tmp_path, qtbot, [None], model=False)
    nxt = LabelNext(state, UncertainSort(state, FakeBridge(), parent), parent)
    said, train = _record(nxt.message), _record(nxt.train_first)
    assert not nxt.trigger()
    assert train == ["Train a model first: it picks the image to label next."]
    assert said == [(train[0], train[0])]
    state.set_project(None)
    p.close()


def _grid(state, parent, rows):
    """The grid DataActions edits: a real ImageBrowser on the state's project, `rows` selected."""
    model = ImageListModel(parent)
    model.set_project(state.project)
    model.set_ids(state.project.query())
    browser = ImageBrowser(parent)
    browser.setModel(model)
    sm = browser.selectionModel()
    browser.setCurrentIndex(model.index(rows[0]))
    for r in rows:
        sm.select(model.index(r), QItemSelectionModel.SelectionFlag.Select)
    return browser


def test_data_actions_edit_the_selection_and_say_so(qtbot, tmp_path, monkeypatch):
    p, state, parent = _open(tmp_path, qtbot, [None, None, None, ["cat"]])
    browser = _grid(state, parent, [0, 1])
    edits = DataActions(state, browser, parent)
    said, opened = _record(edits.message), _record(edits.open_requested)
    removing, removed = _record(edits.removing), _record(edits.removed)
    ids = edits.selected_ids()
    assert ids == p.query()[:2]

    edits.label_with_key(2)
    assert [r.labels for r in p.images(ids)] == [("dog",), ("dog",)]
    assert said[-1] == "Labelled 2 images as dog"
    edits.label_with_key(5)
    assert said[-1] == "There is no class 5; create it with + first."
    state.undo()
    assert [r.labels for r in p.images(ids)] == [(), ()]
    edits.move_selected_to("test")
    assert [r.split for r in p.images(ids)] == ["test", "test"]

    menu = edits.build_context_menu()
    assert menu.parent() is parent
    texts = [a.text() for a in menu.actions()]
    assert texts[0] == "Open" and "Remove from project…\tDel" in texts
    next(a for a in menu.actions() if a.text() == "Open").trigger()
    assert opened == [()]
    split = edits.split_menu(menu.addMenu("Split"))
    assert [a.text() for a in split.actions() if a.text()][-1] == "Re-split automatically…"

    monkeypatch.setattr(edits, "confirm_remove", lambda n: n == 2)
    edits.remove_selected()
    assert removing == [ids] and removed == [ids] and p.count() == 2
    assert said[-1] == "Removed 2 images from the project (Ctrl+Z brings them back)"
    state.undo()
    assert p.count() == 4
    state.set_project(None)
    p.close()

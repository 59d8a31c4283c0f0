"""Data page "Label next" (key N): without a model it says to train first; with one it opens the
unlabeled image the engine ranks most uncertain, and after that image is labelled the next N
goes to the next one at once (no new ranking); a new model ranks again. Segmentation opens the
image in the mask editor; regression is not offered."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import Qt

from engine.interpret.uncertainty import rank_unlabeled
from engine.predict.predictor import Predictor
from engine.project.store import Project
from gui.data.page import DataPage
from gui.state import AppState
from tests.support.projects import make_project
from tests.support.weights import save_tiny_model


@pytest.fixture
def open_page(qtbot, bridge):
    made = []

    def open_(project):
        state = AppState()
        page = DataPage(bridge, state)
        qtbot.addWidget(page)
        page.resize(1100, 700)
        page.show()
        qtbot.waitExposed(page)
        page.windowHandle().requestActivate()  # shortcuts reach the active window only
        qtbot.waitUntil(page.isActiveWindow, timeout=5000)
        state.set_project(project)
        made.append((page, project))
        return page

    yield open_
    for page, project in made:
        page.set_project(None)
        page.loader.shutdown()
        project.close()


def _ranked(project) -> list[int]:
    return [i for i, _ in rank_unlabeled(project, Predictor.from_path(project.path, "cpu"))]


def test_label_next_goes_to_the_most_uncertain_image(qtbot, bridge, open_page, tmp_path):
    p = make_project(tmp_path / "p", n=16)
    unl = p.query()[:6]
    p.set_labels(unl, [])
    page = open_page(p)
    rank_done = bridge.job("rank").finished
    assert page.label_next.button.isVisible()
    assert not page.label_next.trigger()
    assert "Train a model first" in page.filters.count.text() and not bridge.busy
    assert page.train_offer.isVisible()  # offers the Train page (tests/gui/test_main_window.py)
    page.train_offer.reject()
    page.activateWindow()  # as the window manager does when the box closes
    qtbot.waitUntil(page.isActiveWindow, timeout=5000)
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("red", "blue"))
    shutil.copy(model, p.path / "models" / "best.pt")
    expected = _ranked(p)
    page.browser.setFocus()
    with qtbot.waitSignal(rank_done, timeout=60000):
        qtbot.keyClick(page.browser, Qt.Key.Key_N)  # the shortcut, from the grid
    assert page.viewer.isVisible() and page.viewer.record.id == expected[0]
    assert page.browser.selected_ids() == [expected[0]]
    rect = page.browser.visualRect(page.browser.currentIndex())
    assert page.browser.viewport().rect().intersects(rect)  # scrolled into sight
    assert "Next: uncertainty" in page.filters.count.text()
    assert "least sure" in page.filters.count.toolTip()
    qtbot.keyClick(page.browser, Qt.Key.Key_1)  # label it with class 1
    assert p.image(expected[0]).labels == (p.class_names()[0],)
    with qtbot.assertNotEmitted(bridge.started, wait=200):
        qtbot.keyClick(page.browser, Qt.Key.Key_N)  # the ranking is kept: no new job
    assert page.viewer.record.id == expected[1]
    page.label_next.button.click()  # not labelled: the same image again
    assert page.viewer.record.id == expected[1]
    # a new model (a retrain) ranks again
    names = ("red", "blue")
    retrained = save_tiny_model(tmp_path / "m2.pt", "classification", class_names=names, tweak=_b)
    shutil.copy(retrained, p.path / "models" / "best.pt")
    st = os.stat(p.path / "models" / "best.pt")
    os.utime(p.path / "models" / "best.pt", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    again = _ranked(p)
    with qtbot.waitSignal(rank_done, timeout=60000):
        page.label_next.button.click()
    assert page.viewer.record.id == again[0]


def _b(bundle):
    """A retrained model: the same weights with a shifted head bias."""
    head = [m for m in bundle.model.modules() if hasattr(m, "bias") and m.bias is not None][-1]
    head.bias[0] += 0.5


def test_label_next_all_labelled_empty_project_and_regression(qtbot, bridge, open_page, tmp_path):
    p = make_project(tmp_path / "p", n=8)
    shutil.copy(
        save_tiny_model(tmp_path / "m.pt", "classification", class_names=("red", "blue")),
        p.path / "models" / "best.pt",
    )
    page = open_page(p)
    assert not page.label_next.trigger() and "Every image is labelled" in (
        page.filters.count.text()
    )
    empty = Project.create(tmp_path / "e", "classification")
    (empty.path / "models").mkdir(exist_ok=True)
    shutil.copy(p.path / "models" / "best.pt", empty.path / "models" / "best.pt")
    empty_page = open_page(empty)
    assert not empty_page.label_next.trigger()
    assert "No images yet" in empty_page.filters.count.text() and not bridge.busy
    r = make_project(tmp_path / "r", "regression", n=8)
    assert not open_page(r).label_next.button.isVisible()


def test_label_next_opens_the_mask_editor_for_segmentation(qtbot, bridge, open_page, tmp_path):
    p = make_project(tmp_path / "s", "segmentation", n=8)
    for iid in p.query()[:3]:
        p.clear_mask(iid)
    names = ("background", "square")
    arch = "lraspp_mobilenet_v3_large"
    save_tiny_model(p.path / "models" / "best.pt", "segmentation", arch=arch, class_names=names)
    page = open_page(p)
    expected = _ranked(p)
    with qtbot.waitSignal(bridge.job("rank").finished, timeout=60000):
        assert page.label_next.trigger()
    assert page.viewer.record.id == expected[0]
    assert page.viewer.editor.painting


def test_ranking_can_be_stopped(qtbot, bridge, open_page, tmp_path, monkeypatch):
    """The sort button turns into "Stop ranking" while the model ranks; stopping leaves no
    ranking behind, so Label next ranks again."""
    import time

    import gui.data.uncertain as uncertain

    def slow_rank(job, project):
        while True:  # stands in for ranking a big project: only a cancel ends it
            job.control.check()
            time.sleep(0.01)

    monkeypatch.setattr(uncertain, "rank_job", slow_rank)
    p = make_project(tmp_path / "p", n=8)
    p.set_labels(p.query()[:4], [])
    shutil.copy(
        save_tiny_model(tmp_path / "m.pt", "classification", class_names=("red", "blue")),
        p.path / "models" / "best.pt",
    )
    page = open_page(p)
    assert page.label_next.trigger() and bridge.busy
    button = page.uncertain.button
    assert button.text() == "Stop ranking"
    with qtbot.waitSignal(bridge.job("rank").cancelled, timeout=10000):
        button.click()
    assert button.text() == uncertain.SORT_TEXT and "stopped" in page.filters.count.text()
    assert not page.uncertain.fresh() and page.viewer.record is None

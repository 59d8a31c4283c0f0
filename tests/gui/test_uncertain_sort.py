"""Data page "Most uncertain first": train first without a model; with one, the unlabeled images
in the order of the model's uncertainty, kept while one is labelled."""

from __future__ import annotations

import shutil

from engine.interpret.uncertainty import rank_unlabeled
from engine.predict.predictor import Predictor
from engine.project.store import Project
from gui.data.class_panel import UNLABELED
from gui.data.page import DataPage
from gui.state import AppState
from tests.support.projects import make_project
from tests.support.weights import save_tiny_model


def test_most_uncertain_first(qtbot, bridge, tmp_path):
    p = make_project(tmp_path / "p", n=16)
    unl = p.query()[:8]
    p.set_labels(unl, [])
    p.close()
    project = Project.open(tmp_path / "p")
    state = AppState()
    page = DataPage(bridge, state)
    qtbot.addWidget(page)
    state.set_project(project)
    assert not page.uncertain.start()
    assert "Train a model first" in page.filters.count.text()
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("red", "blue"))
    shutil.copy(model, project.path / "models" / "best.pt")
    with qtbot.waitSignal(bridge.job("rank").finished, timeout=60000):
        page.uncertain.button.click()
    expected = [i for i, _ in rank_unlabeled(project, Predictor.from_path(project.path, "cpu"))]
    assert page.filters.label.currentData() == UNLABELED
    assert page.model.ids == expected and sorted(expected) == sorted(unl)
    state.edit(lambda h: h.set_labels([expected[0]], ["red"]))  # label the top one
    qtbot.waitUntil(lambda: page.model.ids == expected[1:], timeout=5000)
    page.filters.label.setCurrentIndex(0)  # another filter: the ranking is dropped
    assert page.model.ids == sorted(page.model.ids)
    state.set_project(None)
    page.loader.shutdown()
    project.close()

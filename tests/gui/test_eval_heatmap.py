"""Evaluate page heatmap: beside the selected validation image, the Grad-CAM overlay computed on
the worker thread; the opacity slider re-blends; another class (or image) gets its own map; a
project whose model file is gone says to train first."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.imaging import load_rgb
from engine.project.store import Project
from gui.common.heatmap import TRAIN_FIRST
from gui.evaluate.page import EvaluatePage
from tests.support.projects import train_tiny_projects


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny_projects(tmp_path_factory.mktemp("trained"), {"classification": 16})


@pytest.fixture
def opened(qtbot, bridge, trained, tmp_path):
    shutil.copytree(trained["classification"], tmp_path / "p")
    project = Project.open(tmp_path / "p")
    page = EvaluatePage(bridge)
    qtbot.addWidget(page)
    page.resize(1100, 760)
    page.show()
    page.set_project(project)
    yield page, project
    page.shutdown()
    project.close()


def _heatmap_done(qtbot, bridge):
    return qtbot.waitSignal(bridge.job("heatmap").finished, timeout=60000)


def test_heatmap_beside_selected_validation_image(qtbot, bridge, opened, tmp_path):
    page, project = opened
    page.items.selectRow(1)
    iid = page.selected_id()
    rec = project.image(iid)
    path = str(project.abspath(rec.file))
    plain = np.asarray(load_rgb(path))
    view, panel = page.inspect.view, page.inspect.panel
    assert page.inspect.isVisible() and panel.toggle.isVisible()
    assert np.array_equal(view.array, plain)  # the selected validation image itself
    assert rec.name in page.inspect.caption.text()
    with _heatmap_done(qtbot, bridge):
        panel.toggle.setChecked(True)
    assert (path, None) in panel.maps
    overlaid = view.array.copy()
    assert not np.array_equal(overlaid, plain)  # the heatmap is painted over the image
    panel.opacity.setValue(0)
    assert np.array_equal(view.array, plain)  # opacity 0: the plain image
    panel.opacity.setValue(90)
    assert not np.array_equal(view.array, plain) and not np.array_equal(view.array, overlaid)
    predicted = next(it.prediction for it in page.evaluation.items if it.image_id == iid)
    other = "blue" if predicted == "red" else "red"
    with _heatmap_done(qtbot, bridge) as done:
        panel.set_class(other)  # any class, not only the predicted one
    assert done.args[0][:3] == (path, other, other)
    assert panel.current_map() is panel.maps[(path, other)]
    page.grab().save(str(tmp_path / "eval_heatmap.png"))
    with _heatmap_done(qtbot, bridge) as done:
        page.items.selectRow(0)  # the next image gets its own map, for the chosen class
    assert done.args[0][0] == str(project.abspath(project.image(page.selected_id()).file))
    panel.toggle.setChecked(False)
    assert np.array_equal(view.array, np.asarray(load_rgb(done.args[0][0])))


def test_heatmap_without_model_says_train_first(qtbot, bridge, opened):
    page, project = opened
    for f in (project.path / "models").glob("*.pt"):
        f.unlink()  # the evaluation stays, the model is gone
    page.items.selectRow(0)
    panel = page.inspect.panel
    panel.toggle.setChecked(True)
    assert panel.note.text() == TRAIN_FIRST and not bridge.busy
    assert np.array_equal(page.inspect.view.array, np.asarray(load_rgb(panel._path)))


def test_hidden_page_computes_its_heatmap_when_shown(qtbot, bridge, opened):
    """After training the window reloads the Evaluate page even in another tab: the map waits
    until the page is shown instead of holding the worker."""
    page, _project = opened
    panel = page.inspect.panel
    page.hide()
    panel.toggle.setChecked(True)
    page.items.selectRow(1)
    assert not bridge.busy and panel.current_map() is None
    with _heatmap_done(qtbot, bridge):
        page.show()
    assert panel.current_map() is not None


def test_multilabel_heatmap_marks_every_predicted_label(qtbot, bridge, tmp_path):
    """A multi-label evaluation (written directly, with an untrained model in use): the class
    list marks each predicted label, and the predicted map is computed for the image."""
    from engine.training.evaluation import EvalItem, Evaluation, save_evaluation
    from tests.support.projects import make_project
    from tests.support.weights import save_tiny_model

    p = make_project(tmp_path / "ml", "multilabel", n=12)
    names = p.class_names()
    save_tiny_model(p.path / "models" / "best.pt", "multilabel", class_names=tuple(names))
    recs = p.images(p.query(split="valid"))
    items = [EvalItem(r.id, r.name, list(r.labels), list(names), 0.5, False, [0.9] * len(names))
             for r in recs]  # fmt: skip
    save_evaluation(p.path / "models", Evaluation("multilabel", names, items, None, {}, {}))
    page = EvaluatePage(bridge)
    qtbot.addWidget(page)
    page.show()
    page.set_project(p)
    panel = page.inspect.panel
    assert page.inspect.isVisible() and page.selected_id() == recs[0].id
    texts = [panel.classes.itemText(i) for i in range(panel.classes.count())]
    assert texts[1:] == [f"{n}  (predicted)" for n in names]
    with _heatmap_done(qtbot, bridge) as done:
        panel.toggle.setChecked(True)
    assert done.args[0][1] is None and done.args[0][2] in names
    assert panel.current_map() is not None
    page.shutdown()
    p.close()

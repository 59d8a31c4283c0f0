"""The mask editor's model help: start from the model's prediction (undoable) and go to the
unlabeled image the model is least certain about; both run as bridge jobs."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from engine.interpret.uncertainty import scores
from engine.predict.predictor import Predictor
from engine.project.store import Project
from gui.jobs.names import JobName
from tests.support.projects import train_tiny_projects


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny_projects(tmp_path_factory.mktemp("trained"), {"segmentation": 12})


def test_mask_uncertainty_is_zero_when_sure_and_one_when_uniform():
    sure = np.zeros((1, 3, 4, 4), np.float32)
    sure[:, 0] = 1
    assert scores(sure, "segmentation")[0] == pytest.approx(0, abs=1e-4)
    uniform = np.full((1, 3, 4, 4), 1 / 3, np.float32)
    assert scores(uniform, "segmentation")[0] == pytest.approx(1, abs=1e-4)


def test_start_from_prediction_and_next_to_label(qtbot, bridge, trained, tmp_path):
    from gui.data.page import DataPage
    from gui.state import AppState

    shutil.copytree(trained["segmentation"], tmp_path / "p")
    p = Project.open(tmp_path / "p")
    ids = p.query()
    for iid in ids[:3]:
        p.clear_mask(iid)  # three images without a mask: unlabeled
    state = AppState()
    page = DataPage(bridge, state)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    try:
        state.set_project(p)
        page.open_viewer(page.model.index(0))
        ed = page.viewer.editor
        ed.paint_button.click()
        assert ed.assist.start_button.isEnabled() and ed.assist.isVisible()
        # the image the model is least sure of, computed here directly, must be the one shown
        pred = Predictor.from_path(p.path)
        recs = p.images(ids[:3])
        x = np.stack([pred.prepare(str(p.abspath(r.file)))[0] for r in recs])
        ent = scores(pred.forward(x, tta=False).numpy(), "segmentation")
        want = recs[int(np.argmax(ent))].id
        with qtbot.waitSignal(bridge.job(JobName.LEAST_CERTAIN).finished, timeout=30000):
            ed.assist.next_button.click()
        assert page.viewer.record.id == want and page.viewer.mask is None
        with qtbot.waitSignal(bridge.job(JobName.PREDICT_MASK).finished, timeout=30000):
            ed.assist.start_button.click()
        expected = pred.predict(str(p.abspath(p.image(want).file))).mask
        assert np.array_equal(p.read_mask(want), expected)
        assert np.array_equal(page.viewer.mask, expected)
        assert p.image(want).mask is not None and want not in p.query(unlabeled=True)
        state.undo()
        assert p.image(want).mask is None and page.viewer.mask is None
    finally:
        state.set_project(None)
        page.shutdown()
        p.close()

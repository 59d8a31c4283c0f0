"""Predict page heatmap: switched on, it paints a Grad-CAM overlay computed on the worker
thread; the opacity slider re-blends (0 = the plain image); another class gets its own map."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from tests.gui.test_predict_page import _open
from tests.support.projects import train_tiny_projects
from tests.support.qt import drop_files


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny_projects(tmp_path_factory.mktemp("trained"), {"classification": 12})


def test_heatmap_overlay_and_opacity(qtbot, bridge, trained, tmp_path):
    page, project = _open(qtbot, bridge, trained["classification"])
    image = tmp_path / "photo.png"
    shutil.copy(project.abspath(project.images()[0].file), image)
    with qtbot.waitSignal(bridge.finished, timeout=60000):
        assert drop_files(page, [image])
    panel = page.heatmap
    assert panel.isVisible() and panel.classes.count() == 3  # predicted + red + blue
    plain = page.view.array.copy()
    with qtbot.waitSignal(bridge.finished, timeout=60000):
        panel.toggle.setChecked(True)
    assert (str(image), None) in panel.maps
    assert not np.array_equal(page.view.array, plain)  # the overlay is painted
    panel.opacity.setValue(0)
    assert np.array_equal(page.view.array, plain)  # opacity 0: the image itself
    panel.opacity.setValue(80)
    other = "blue" if page.results[str(image)][0].label == "red" else "red"
    with qtbot.waitSignal(bridge.finished, timeout=60000):
        panel.classes.setCurrentText(other)
    assert (str(image), other) in panel.maps
    page.grab().save(str(tmp_path / "heat.png"))
    panel.toggle.setChecked(False)
    assert np.array_equal(page.view.array, plain)
    project.close()

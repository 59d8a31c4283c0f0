"""The Predict page: a real drop of image files, class probabilities, segmentation overlays with
class colours where the mask says, a legend that hides a class, a folder predicted to CSV."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from gui.common.overlay import hex_to_rgb
from gui.predict.page import PredictPage
from tests.support.projects import train_tiny_projects
from tests.support.qt import drop_files


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Tiny trained projects, one per task used here (trained once for the module)."""
    sizes = {"classification": 12, "segmentation": 12}
    return train_tiny_projects(tmp_path_factory.mktemp("trained"), sizes)


def _open(qtbot, bridge, folder):
    from engine.project.store import Project

    project = Project.open(folder)
    page = PredictPage(bridge)
    qtbot.addWidget(page)
    page.resize(1000, 640)
    page.show()
    page.set_project(project)
    return page, project


def test_dropped_image_shows_label_and_probabilities(qtbot, bridge, trained, tmp_path):
    page, project = _open(qtbot, bridge, trained["classification"])
    image = tmp_path / "my photo.png"
    shutil.copy(project.abspath(project.images()[0].file), image)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg")
    with qtbot.waitSignal(bridge.finished, timeout=60000):
        assert drop_files(page, [image, bad])
    assert page.list.count() == 2
    page.list.setCurrentItem(page.list.findItems("my photo.png", Qt.MatchFlag.MatchStartsWith)[0])
    pred = page.results[str(image)][0]
    assert pred.label in ("red", "blue")
    assert pred.label in page.headline.text()
    assert set(page.bar_values) == {"red", "blue"}
    assert sum(page.bar_values.values()) == pytest.approx(1000, abs=2)  # probabilities
    assert page.bar_values[pred.label] == round(pred.probs[pred.label] * 1000)
    assert page.view.array is not None and page.view.array.shape[:2] == (32, 32)
    assert "broken.jpg" in page.status.text()  # the bad file is named, the good one shown
    project.close()


def test_segmentation_overlay_colours_follow_mask_and_legend(qtbot, bridge, trained):
    page, project = _open(qtbot, bridge, trained["segmentation"])
    rec = project.images()[0]
    path = str(project.abspath(rec.file))
    with qtbot.waitSignal(bridge.finished, timeout=60000):
        assert drop_files(page, [path])
    pred = page.results[path][0]
    image = page._image.astype(float)
    colors = [hex_to_rgb(c.color) for c in project.classes()]
    counts = np.bincount(pred.mask.ravel(), minlength=len(colors))
    c = int(np.argmax(counts))  # the class the model paints most
    box = page.legend.boxes[c]
    if not box.isChecked():
        box.click()
    alpha = page.opacity.value() / 100
    where = pred.mask == c
    expected = image[where] * (1 - alpha) + np.array(colors[c]) * alpha
    assert np.abs(page.view.array[where] - expected).max() <= 1
    assert page.truth.isVisible()  # the image is in the project with a mask
    box.click()  # legend: hide that class
    assert c in page.legend.hidden()
    assert (page.view.array[where] == page._image[where]).all()
    project.close()


def test_predict_folder_writes_csv(qtbot, bridge, trained, tmp_path):
    page, project = _open(qtbot, bridge, trained["classification"])
    folder = tmp_path / "in"
    folder.mkdir()
    for rec in project.images()[:3]:
        shutil.copy(project.abspath(rec.file), folder / Path(rec.file).name)
    (folder / "bad.png").write_bytes(b"")
    out = tmp_path / "preds.csv"
    with qtbot.waitSignal(bridge.finished, timeout=60000):
        assert page.predict_folder(str(folder), str(out))
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 4
    assert sum(1 for r in rows if r["label"] in ("red", "blue")) == 3
    assert "empty" in next(r["error"] for r in rows if r["file"].endswith("bad.png"))
    assert "3 image(s) predicted" in page.status.text()
    project.close()


def test_a_dropped_folder_of_many_images_asks_before_predicting(qtbot, bridge, trained, tmp_path):
    """401 predictions from one careless drop: the page asks first; Cancel predicts nothing."""
    from PIL import Image

    from tests.support.qt import press_when_shown

    page, project = _open(qtbot, bridge, trained["classification"])
    folder = tmp_path / "holiday"
    folder.mkdir()
    for i in range(60):
        Image.new("RGB", (8, 8), (i * 4, 0, 0)).save(folder / f"p{i:02d}.png")
    seen: list[str] = []
    answer = press_when_shown("predictManyChoice", "Cancel", seen)
    assert drop_files(page, [folder])
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert "holiday" in seen[0] and "60 images" in seen[0]
    assert not bridge.busy and page.list.count() == 0
    assert page.status.text() == "Nothing predicted."

    answer = press_when_shown("predictManyChoice", "Predict 60")
    with qtbot.waitSignal(bridge.finished, timeout=60000):
        assert drop_files(page, [folder])
    answer.stop()
    assert page.list.count() == 60
    project.close()

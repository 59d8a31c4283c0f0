"""The Train page: settings saved, weights checked before a run, live plots, overfitting notice,
a real (tiny) training run started by clicking Train."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.demo import create_demo_project
from engine.events import BatchEnd, EpochEnd, FitEnd, FitStart
from engine.project import Project
from gui.bridge import EngineBridge
from gui.train_page import TrainPage, overfitting


@pytest.fixture
def bridge(qtbot):
    b = EngineBridge()
    yield b
    b.shutdown(20000)


@pytest.fixture
def project(tmp_path):
    p = create_demo_project(tmp_path / "demo", "classification", n=16, size=32)
    yield p
    p.close()


@pytest.fixture
def page(qtbot, bridge, project):
    page = TrainPage(bridge)
    qtbot.addWidget(page)
    page.resize(1100, 750)
    page.show()
    page.set_project(project)
    qtbot.waitUntil(lambda: page.settings.arch.count() > 1, timeout=60000)
    return page


def _synthetic_run(job, losses):
    """A stand-in training job: FitStart, 2 batches per epoch, EpochEnd with given losses."""
    n = len(losses)
    job.emit(FitStart("classification", "resnet18", "cpu", n, 0, 2, 8, 4, ("accuracy",)))
    for ep, (train, valid) in enumerate(losses):
        for b in range(2):
            job.emit(BatchEnd(ep, b, ep * 2 + b, n * 2, train + 0.1 * b, 1e-3, 50.0, 1.0, False))
        job.emit(EpochEnd(ep, train, valid, {"accuracy": 0.5}, False, 1.0, ep == 0))
    return FitEnd(n, 0, 0.5, "", False)


def test_overfitting_rule():
    assert not overfitting([(1.0, 1.0), (0.8, 0.9)])
    assert overfitting([(1.0, 0.5), (0.8, 0.6), (0.6, 0.7)])
    assert not overfitting([(1.0, 0.5), (0.8, 0.6), (0.6, 0.55)])  # valid fell again
    assert not overfitting([(1.0, 0.5), (1.1, 0.6), (1.2, 0.7)])  # train not falling


def test_rising_valid_loss_shows_overfitting_notice(qtbot, page, bridge):
    losses = [(1.0, 0.9), (0.7, 0.8), (0.5, 0.85), (0.3, 0.95)]
    with qtbot.waitSignal(bridge.finished, timeout=10000):
        bridge.submit("train", _synthetic_run, losses)
    assert page.notice.isVisible()
    assert "overfitting" in page.notice.text()
    assert "best model" in page.notice.text()
    page.plots.flush()
    assert len(page.plots.raw_curve.getData()[0]) == 8  # one point per batch
    assert len(page.plots.valid_curve.getData()[0]) == 4  # one point per epoch
    assert page.table.rowCount() == 4


def test_falling_losses_show_no_notice(qtbot, page, bridge):
    losses = [(1.0, 0.9), (0.7, 0.8), (0.5, 0.6)]
    with qtbot.waitSignal(bridge.finished, timeout=10000):
        bridge.submit("train", _synthetic_run, losses)
    assert not page.notice.isVisible()


def test_offline_without_weights_explains_and_starts_nothing(qtbot, page, bridge, project):
    page.settings.set_pretrained(True)
    qtbot.mouseClick(page.settings.train_button, Qt.MouseButton.LeftButton)
    assert not bridge.busy
    box = page.settings.weights_box
    assert box.isVisible()
    assert "resnet18" in page.settings.weights_msg.text()
    assert page.settings.scratch_button.isVisible()
    assert page.settings.choose_button.isVisible()
    assert project.load_settings()["weights"] == "imagenet"  # the choice was saved


def test_settings_are_saved_and_restored(qtbot, page, bridge, project, tmp_path):
    page.settings.epochs.setValue(7)
    page.settings.lr.setText("0.003")
    page.settings.lr.editingFinished.emit()
    page.settings.color.setChecked(True)
    saved = Project.open(project.path)
    try:
        other = TrainPage(bridge)
        qtbot.addWidget(other)
        other.set_project(saved)
        cfg = other.settings.config()
        assert (cfg.epochs, cfg.lr, cfg.color_jitter) == (7, 0.003, True)
    finally:
        saved.close()


def test_bad_learning_rate_is_explained(qtbot, page, bridge):
    page.settings.lr.setText("fast")
    qtbot.mouseClick(page.settings.train_button, Qt.MouseButton.LeftButton)
    assert not bridge.busy
    assert "fast" in page.settings.error.text()

"""The Train page: settings saved, weights checked before a run, live plots, overfitting notice,
a real (tiny) training run started by clicking Train."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from engine.events import BatchEnd, EpochEnd, FitEnd, FitStart
from engine.project.demo import create_demo_project
from engine.project.store import Project
from gui.bridge import EngineBridge
from gui.train.page import TrainPage
from gui.train.run_view import overfitting


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
    assert page.run.notice.isVisible()
    assert "overfitting" in page.run.notice.text()
    assert "best model" in page.run.notice.text()
    page.run.plots.flush()
    assert len(page.run.plots.raw_curve.getData()[0]) == 8  # one point per batch
    assert len(page.run.plots.valid_curve.getData()[0]) == 4  # one point per epoch
    assert page.run.table.rowCount() == 4


def test_falling_losses_show_no_notice(qtbot, page, bridge):
    losses = [(1.0, 0.9), (0.7, 0.8), (0.5, 0.6)]
    with qtbot.waitSignal(bridge.finished, timeout=10000):
        bridge.submit("train", _synthetic_run, losses)
    assert not page.run.notice.isVisible()


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


def test_frozen_epochs_are_part_of_the_total_and_only_when_pretrained(qtbot, page, project):
    s = page.settings
    s.set_pretrained(True)
    s.epochs.setValue(3)
    s.freeze.setValue(2)
    assert s.freeze.isEnabled() and s.freeze.maximum() == 3
    assert (project.load_settings()["epochs"], project.load_settings()["freeze_epochs"]) == (3, 2)
    s.epochs.setValue(1)  # the frozen part cannot exceed the total
    assert s.freeze.value() == 1 and s.config().freeze_epochs == 1
    s.epochs.setValue(4)
    s.set_pretrained(False)  # from scratch nothing is frozen: shown as 0, not editable
    assert not s.freeze.isEnabled() and s.freeze.value() == 0
    s.set_pretrained(True)  # the choice comes back
    assert s.freeze.isEnabled() and s.freeze.value() == 1


def test_bad_learning_rate_is_explained(qtbot, page, bridge):
    page.settings.lr.setText("fast")
    qtbot.mouseClick(page.settings.train_button, Qt.MouseButton.LeftButton)
    assert not bridge.busy
    assert "fast" in page.settings.error.text()


def _tiny_settings(page) -> None:
    s = page.settings
    s.set_pretrained(False)
    s.size.setValue(32)
    s.batch.setValue(4)
    s.epochs.setValue(2)  # from scratch: 2 unfrozen epochs
    s.lr.setText("0.001")
    s.lr.editingFinished.emit()


def test_click_train_runs_and_plots_every_batch_and_epoch(qtbot, page, bridge, project):
    _tiny_settings(page)
    qtbot.mouseClick(page.settings.train_button, Qt.MouseButton.LeftButton)
    assert bridge.busy and not page.settings.train_button.isEnabled()
    with qtbot.waitSignal(bridge.finished, timeout=120000) as done:
        pass
    fit = done.args[1]
    assert isinstance(fit, FitEnd) and fit.epochs_done == 2 and not fit.cancelled
    steps = page.run.fit.steps_per_epoch
    page.run.plots.flush()
    assert len(page.run.plots.raw_curve.getData()[0]) == 2 * steps  # one point per batch
    assert len(page.run.plots.smooth_curve.getData()[0]) == 2 * steps
    assert len(page.run.plots.lr_curve.getData()[0]) == 2 * steps
    assert len(page.run.plots.valid_curve.getData()[0]) == 2  # one point per epoch
    assert all(len(c.getData()[0]) == 2 for c in page.run.plots.metric_curves.values())
    assert page.run.table.rowCount() == 2
    assert "Done" in page.run.status.text() and "now the model in use" in page.run.status.text()
    assert "best accuracy" in page.run.status.text()  # the metric is named
    assert page.settings.train_button.isEnabled()
    # after the run: how good it is against always answering one class, and the run listed
    qtbot.waitUntil(lambda: page.run.verdict.isVisible(), timeout=30000)
    verdict = page.run.verdict.text()
    assert "validation images" in verdict and "always answering “" in verdict
    assert "Next:" in verdict and "pretrained weights" in verdict
    assert page.runs.isVisible() and page.runs.table.rowCount() == 1
    row = [page.runs.table.item(0, c).text() for c in range(5)]
    assert row[1:3] == ["Finished", "2 of 2"] and row[3].startswith("accuracy ")
    assert row[4] == "✓ in use"
    saved = project.load_settings()
    assert saved["image_size"] == 32 and saved["leave_one_core"] is True


def test_lr_finder_shows_curve_and_suggestion(qtbot, page, bridge):
    _tiny_settings(page)
    with qtbot.waitSignal(bridge.finished, timeout=120000):
        qtbot.mouseClick(page.settings.find_button, Qt.MouseButton.LeftButton)
    assert page.run.lr_box.isVisible()
    xs, ys = page.run.lr_plot.curve.getData()
    assert len(xs) > 5
    assert page.run.lr_plot.marker.isVisible()
    suggestion = page.run.lr_plot.suggestion
    assert suggestion and 1e-7 < suggestion < 10
    qtbot.mouseClick(page.run.use_lr_button, Qt.MouseButton.LeftButton)
    assert page.settings.config().lr == pytest.approx(float(f"{suggestion:.3g}"))


def test_stop_keeps_last_checkpoint(qtbot, page, bridge, project):
    _tiny_settings(page)
    page.settings.epochs.setValue(20)
    qtbot.mouseClick(page.settings.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: page.run.plots is not None and page.run.plots.n_batches > 0, timeout=60000
    )
    with qtbot.waitSignal(bridge.finished, timeout=60000) as done:
        qtbot.mouseClick(page.run.stop_button, Qt.MouseButton.LeftButton)
    assert done.args[1].cancelled
    assert "Stopped" in page.run.status.text()
    assert (project.path / "models" / "runs" / done.args[1].run_id / "last.pt").is_file()
    assert page.run.progress.format() == "Stopped"  # a stopped run is not called "Finished"
    qtbot.waitUntil(lambda: page.runs.table.rowCount() == 1, timeout=30000)
    assert page.runs.table.item(0, 1).text() == "Stopped (can be resumed)"


def test_closing_window_mid_run_stops_cleanly(qtbot, tmp_path, monkeypatch):
    from gui.window.main_window import MainWindow

    folder = tmp_path / "demo"
    create_demo_project(folder, "classification", n=16, size=32).close()
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.projects.open_project(str(folder))
    page = next(p for p in window.pages if isinstance(p, TrainPage))
    window.tabs.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.settings.arch.count() > 1, timeout=60000)
    _tiny_settings(page)
    page.settings.epochs.setValue(20)
    qtbot.mouseClick(page.settings.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.run.plots.n_batches > 0, timeout=60000)
    asked = []
    monkeypatch.setattr(window, "ask", lambda *a: asked.append(a) or True)
    window.close()
    assert asked and not window.isVisible()
    assert list((folder / "models" / "runs").glob("*/last.pt"))


def test_segmentation_epoch_table_shows_a_summary_and_per_class_columns_on_request(qtbot):
    from gui.train.run_view import RunView

    view = RunView()
    qtbot.addWidget(view)
    view.show()
    table = view.table
    table.reset(("pixel_accuracy", "miou", "dice"))
    classes = {f"iou/class{i}": 0.1 * i for i in range(11)}
    table.add_epoch(
        EpochEnd(
            0,
            1.2,
            1.1,
            {"pixel_accuracy": 0.6, "miou": 0.2, "dice": 0.3, **classes},
            False,
            3.0,
            True,
        )
    )

    def shown():
        return [
            table.horizontalHeaderItem(c).text()
            for c in range(table.columnCount())
            if not table.isColumnHidden(c)
        ]

    summary = ["epoch", "train_loss", "valid_loss", "pixel_accuracy", "miou", "dice", "time"]
    assert shown() == summary  # 11 per-class columns would squeeze every cell
    assert view.details_box.isVisible()
    view.details_box.setChecked(True)
    assert len(shown()) == len(summary) + 11 and "iou/class3" in shown()
    view.details_box.setChecked(False)
    table.reset(("error_rate", "accuracy"))  # a classification run: nothing to hide, no box
    assert not view.details_box.isVisible()

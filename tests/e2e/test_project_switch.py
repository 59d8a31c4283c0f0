"""Switching projects, as a user does it: train project A on the Train page, filter its images,
pick a confusion-matrix cell, predict an image; then open project B. Every page shows B as if
freshly opened, on the Data page. Reopening A shows its stored training run and evaluation."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from engine.training.evaluation import load_evaluation
from gui.jobs.names import JobName
from gui.predict.page import READY as PREDICT_READY
from gui.train.page import READY as TRAIN_READY
from gui.train.run_view import NOT_STARTED
from tests.support.projects import make_project as make_train_project
from tests.support.qt import shown_main_window

BUTTON = Qt.MouseButton.LeftButton


def _train_tiny(qtbot, window, train) -> object:
    """Click Train with settings that finish in seconds; returns the FitEnd."""
    s = train.settings
    s.set_pretrained(False)
    s.size.setValue(32)
    s.batch.setValue(4)
    s.freeze.setValue(0)
    s.epochs.setValue(2)
    s.lr.setText("0.001")
    s.lr.editingFinished.emit()
    with qtbot.waitSignal(window.bridge.job(JobName.TRAIN).finished, timeout=120000) as done:
        qtbot.mouseClick(s.train_button, BUTTON)
    return done.args[0]


def _use_project_a(qtbot, window, folder) -> object:
    """Train A, filter its images, pick a confusion cell, predict an image; returns the FitEnd."""
    data, train, evaluate, predict = window.pages
    window.tabs.setCurrentWidget(train)
    qtbot.waitUntil(lambda: train.settings.arch.count() > 1, timeout=60000)
    fit = _train_tiny(qtbot, window, train)
    assert fit.checkpoint and train.run.table.rowCount() == fit.epochs_done == 2
    assert train.run.progress.format() == "Finished"

    window.tabs.setCurrentWidget(data)
    f = data.filters
    f.split.setCurrentIndex(f.split.findData("valid"))
    f.label.setCurrentIndex(f.label.findData("red"))
    f.text.setText("img_01")
    qtbot.waitUntil(lambda: f.count.text() == "1 of 16 images", timeout=5000)

    window.tabs.setCurrentWidget(train)
    train.run.lr_plot.set_result([1e-5, 1e-3, 1e-1], [2.0, 1.0, 9.0], 1e-3)  # a finder's curve
    window.tabs.setCurrentWidget(evaluate)
    assert evaluate.inspect.caption.text()  # the most wrong image is shown with its caption
    conf = evaluate.confusion
    cells = np.array([[int(conf.item(r, c).text()) for c in range(2)] for r in range(2)])
    r, c = map(int, np.argwhere(cells > 0)[0])
    qtbot.mouseClick(conf.viewport(), BUTTON, pos=conf.visualItemRect(conf.item(r, c)).center())
    assert evaluate.show_all.isVisible() and conf.selectedItems()

    window.tabs.setCurrentWidget(predict)
    image = str(window.project.abspath(window.project.images()[0].file))
    with qtbot.waitSignal(window.bridge.job(JobName.PREDICT).finished, timeout=60000):
        assert predict.predict_paths([image])
    assert "1 image(s) predicted" in predict.status.text() and predict.list.count() == 1
    return fit


def test_switching_projects_resets_every_page_and_reopening_shows_history(qtbot, tmp_path):
    a, b = tmp_path / "A", tmp_path / "B"
    make_train_project(a, "classification", n=16).close()
    make_train_project(b, "segmentation", n=8).close()
    window = shown_main_window(qtbot)
    assert window.projects.open_project(str(a))
    data, train, evaluate, predict = window.pages
    fit = _use_project_a(qtbot, window, a)

    assert window.projects.open_project(str(b))
    assert window.tabs.currentWidget() is data  # a project opens on the Data page
    # Data: no filter left over, every image of B shown
    f = data.filters
    assert (f.split.currentData(), f.label.currentData(), f.text.text()) == (None, None, "")
    assert f.count.text() == "8 images" and data.model.rowCount() == 8
    # Train: none of A's run
    run = train.run
    assert run.table.rowCount() == 0 and run.plots.n_batches == run.plots.n_epochs == 0
    assert len(run.plots.valid_curve.getData()[0] or []) == 0
    assert run.progress.format() == NOT_STARTED and not run.notice.isVisible()
    assert not run.verdict.isVisible() and not train.runs.isVisible()  # A's verdict and runs
    # the empty plots look like a fresh page's, not with A's axis ranges
    from gui.train.plots import LRFinderPlot, TrainPlots

    fresh, fresh_lr = TrainPlots(), LRFinderPlot()
    for name in ("loss_plot", "metric_plot", "lr_plot"):
        got = getattr(run.plots, name).getPlotItem().viewRange()
        assert got == getattr(fresh, name).getPlotItem().viewRange(), name
    assert run.lr_plot.plot.getPlotItem().viewRange() == fresh_lr.plot.getPlotItem().viewRange()
    # Evaluate: B has no results; no cell picked, nothing listed
    assert evaluate.evaluation is None and evaluate.items.rowCount() == 0
    assert not evaluate.show_all.isVisible() and not evaluate.confusion.selectedItems()
    assert "No results yet" in evaluate.summary.text()
    # nothing of A's selected image: no caption, no picture, no verdict
    assert evaluate.inspect.caption.text() == "" and evaluate.inspect.view.array is None
    assert evaluate.detail_title.text() == "" and evaluate.pred_view.array is None
    assert not evaluate.verdict.isVisible()
    # Predict: nothing predicted for B
    assert predict.list.count() == 0 and not predict.results
    assert predict.status.text() == PREDICT_READY and predict.headline.text() == ""
    # B was never trained: its Train page is ready, with segmentation networks
    window.tabs.setCurrentWidget(train)
    qtbot.waitUntil(lambda: run.status.text() == TRAIN_READY, timeout=60000)
    assert train.settings.arch.findData("resnet18") < 0  # not a segmentation network
    assert run.table.rowCount() == 0

    # reopen A: its stored run on the Train page, its evaluation on the Evaluate page
    assert window.projects.open_project(str(a))
    assert window.tabs.currentWidget() is data
    window.tabs.setCurrentWidget(train)
    qtbot.waitUntil(lambda: run.table.rowCount() == fit.epochs_done, timeout=60000)
    run.plots.flush()
    assert len(run.plots.valid_curve.getData()[0]) == fit.epochs_done
    assert len(run.plots.smooth_curve.getData()[0]) == fit.epochs_done  # train loss per epoch
    assert "Last training (finished): 2 epoch(s)" in run.status.text()
    assert run.progress.format() == "Finished"
    ev = load_evaluation(window.project)
    assert ev is not None and evaluate.items.rowCount() == len(ev.items) == 4


def test_unreadable_training_history_is_named_on_the_train_page(qtbot, tmp_path):
    folder = tmp_path / "A"
    make_train_project(folder, "classification", n=8).close()
    history = folder / "models" / "history.json"
    history.parent.mkdir(exist_ok=True)
    history.write_text("{not json", encoding="utf-8")
    window = shown_main_window(qtbot)
    assert window.projects.open_project(str(folder))
    train = window.pages[1]
    window.tabs.setCurrentWidget(train)
    qtbot.waitUntil(lambda: "history.json" in train.run.status.text(), timeout=60000)
    assert "cannot be read" in train.run.status.text()
    assert train.run.table.rowCount() == 0

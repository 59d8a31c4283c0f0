"""The Train page's runs side by side: after quitting mid-run and reopening, the stopped run is
called stopped (not "Finished"), the finished run's model is the one in use, and the user can
choose the other run's model, as `topdown use-run` does."""

from __future__ import annotations

from PySide6.QtCore import Qt

from engine.control import RunControl
from engine.events import Callback
from engine.project.demo import create_demo_project
from engine.training.evaluation import load_evaluation
from engine.training.train import train
from gui.bridge import EngineBridge
from gui.train.page import TrainPage
from tests.support.projects import tiny_config


class _StopAfterFirstEpoch(Callback):
    def __init__(self, control: RunControl):
        self.control = control

    def on_epoch_end(self, event) -> None:
        self.control.cancel()  # as quitting the app mid-run does


def test_a_stopped_run_is_shown_as_stopped_and_another_run_can_be_chosen(qtbot, tmp_path):
    project = create_demo_project(tmp_path / "demo", "classification", n=16, size=32)
    finished = train(project, tiny_config(epochs=2))
    control = RunControl()
    stopped = train(project, tiny_config(epochs=5), [_StopAfterFirstEpoch(control)], control)
    assert stopped.cancelled and not finished.cancelled
    assert load_evaluation(project).run_id == finished.run_id

    bridge = EngineBridge()
    page = TrainPage(bridge)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    try:
        page.set_project(project)
        qtbot.waitUntil(lambda: page.runs.table.rowCount() == 2, timeout=60000)
        table = page.runs.table
        rows = [[table.item(r, c).text() for c in range(5)] for r in range(2)]
        assert rows[0][1:3] == ["Stopped (can be resumed)", "1 of 5"] and rows[0][4] == ""
        assert rows[1][1:3] == ["Finished", "2 of 2"] and rows[1][4] == "✓ in use"
        assert page.run.progress.format() == "Stopped (can be resumed)"
        assert "Finished" not in page.run.progress.format()

        table.selectRow(1)  # the model in use: nothing to switch to
        assert not page.runs.use_button.isEnabled()
        table.selectRow(0)
        assert page.runs.use_button.isEnabled()
        with qtbot.waitSignal(page.model_changed, timeout=60000):
            qtbot.mouseClick(page.runs.use_button, Qt.MouseButton.LeftButton)
        assert load_evaluation(project).run_id == stopped.run_id
        qtbot.waitUntil(lambda: table.item(0, 4).text() == "✓ in use", timeout=30000)
        assert table.item(1, 4).text() == ""
        assert stopped.run_id in page.run.status.text()
    finally:
        bridge.shutdown(20000)
        project.close()

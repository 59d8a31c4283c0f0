"""'Use all N GPUs' on the Train page: offered when more than one GPU is visible (faked here),
it runs the train command under torchrun as a child (2 CPU processes with gloo on this
machine), follows it into the same live plots, stops it (last.pt kept), and reports a child
that fails with its message and last output, without harm to the app."""

from __future__ import annotations

import json

import pytest
import torch

from engine.errors import TrainingError
from engine.events import BatchEnd, FitEnd
from gui.bridge import EngineBridge
from gui.jobs import train_child
from gui.train.page import TrainPage
from tests.support.projects import make_project, tiny_config


@pytest.fixture
def bridge(qtbot):
    b = EngineBridge()
    yield b
    b.shutdown(20000)


def _page(qtbot, bridge, project):
    page = TrainPage(bridge)
    qtbot.addWidget(page)
    page.show()
    page.set_project(project)
    qtbot.waitUntil(lambda: page.settings.arch.count() > 1, timeout=60000)
    return page


def test_all_gpus_runs_a_torchrun_child_into_the_live_plots_and_stops(
    qtbot, bridge, tmp_path, monkeypatch
):
    monkeypatch.setattr(train_child, "visible_gpus", lambda: 2)
    project = make_project(tmp_path / "p", n=24, size=16)
    cfg = tiny_config(arch="mobilenet_v3_small", image_size=16, epochs=6, freeze_epochs=0)
    project.save_settings(cfg.to_dict())
    page = _page(qtbot, bridge, project)
    box = page.settings.all_gpus
    qtbot.waitUntil(box.isVisible, timeout=60000)
    assert box.text() == "Use all 2 GPUs"
    box.setChecked(True)
    seen = []
    bridge.job("train").events.connect(seen.extend)
    assert page.start_training()
    assert not page.run.pause_button.isEnabled()  # no pause for a child run
    qtbot.waitUntil(lambda: any(isinstance(e, BatchEnd) for e in seen), timeout=120000)
    page.stop()
    with qtbot.waitSignal(bridge.job("train").finished, timeout=90000) as done:
        pass
    end = done.args[0]
    assert end.cancelled and end.epochs_done < 6
    assert not any(isinstance(e, FitEnd) and not e.cancelled for e in seen)
    page.run.plots.flush()
    assert len(page.run.plots.raw_curve.getData()[0]) >= 1  # drawn from the child's events
    run_dir = sorted((tmp_path / "p" / "models" / "runs").iterdir())[-1]
    ckpt = torch.load(run_dir / "last.pt", weights_only=True)  # kept at the stop
    assert ckpt["world_size"] == 2 and ckpt["epoch"] == end.epochs_done
    assert json.loads((run_dir / "run.json").read_text())["status"] == "stopped"
    project.close()


def test_a_failing_child_is_reported_and_the_app_goes_on(qtbot, bridge, tmp_path, monkeypatch):
    monkeypatch.setattr(train_child, "visible_gpus", lambda: 2)
    project = make_project(tmp_path / "p", n=24, size=16)
    project.save_settings(tiny_config(batch_size=3).to_dict())  # cannot split over 2
    page = _page(qtbot, bridge, project)
    qtbot.waitUntil(page.settings.all_gpus.isVisible, timeout=60000)
    page.settings.all_gpus.setChecked(True)
    with qtbot.waitSignal(bridge.job("train").failed, timeout=90000) as failed:
        assert page.start_training()
    assert "must split evenly" in failed.args[0]
    assert "Last output of the training processes" in failed.args[0]
    assert not bridge.busy and page.settings.train_button.isEnabled()
    project.close()


class _Job:
    def __init__(self):
        from engine.control import RunControl

        self.control, self.events = RunControl(), []

    def emit(self, event):
        self.events.append(event)


def test_a_crashing_child_gives_its_last_lines(tmp_path, monkeypatch):
    """A child that dies without a word (here: a missing interpreter module) -> TrainingError
    with the exit code and its last stderr lines."""
    monkeypatch.setattr(
        train_child, "child_command", lambda *a, **k: ["python3", "-c", "import sys; "
        "print('partial', flush=True); sys.stderr.write('boom: worker 1 died\\n'); sys.exit(7)"]
    )  # fmt: skip

    class _P:
        path = tmp_path

    with pytest.raises(TrainingError, match=r"exit code 7\)(.|\n)*boom: worker 1 died"):
        train_child.train_child_job(_Job(), _P(), None, 2)

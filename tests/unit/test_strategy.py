"""The loop asks its strategy (engine.training.strategy) wherever processes must agree: a
recording strategy shows what it asks and that the answers count (the stop, the gathered
validation loss, the mean train loss, which process writes); one process is the default, and
every process has the same callbacks."""

from __future__ import annotations

import pytest

from engine.control import Cancelled
from engine.training import setup
from engine.training.fit import Loop
from engine.training.strategy import SingleProcess, Strategy, from_environment
from engine.training.train import train
from tests.support.distributed import toy_bundle
from tests.support.projects import Recorder, make_project, tiny_config


class Recording(Strategy):
    """One process's answers, each question written down; `rank` 1 is a process that is not
    the main one."""

    def __init__(self, rank: int = 0, *, stop_after: int | None = None, loss: float | None = None):
        self.rank, self.is_main, self.world_size = rank, rank == 0, 1
        self.stop_after, self.loss = stop_after, loss  # answers that differ from one process's
        self.asked: list[str] = []
        self.checks = {True: 0, False: 0}

    def wrap(self, model, device):
        self.asked.append("wrap")
        return model

    def check(self, control, *, training: bool) -> None:
        self.checks[training] += 1
        control.check()

    def agree(self, flag: bool) -> bool:
        self.asked.append("agree")
        return bool(flag) or self.asked.count("agree") == self.stop_after

    def reduce_mean(self, value: float) -> float:
        self.asked.append("reduce_mean")
        return float(value)

    def gather_metrics(self, metrics, model) -> None:
        self.asked.append("gather_metrics")
        if self.loss is not None:  # as if the other processes' images were added
            metrics.loss_sum = self.loss * metrics.count

    def broadcast_float(self, fn) -> float:
        self.asked.append("broadcast_float")
        return float(fn())


@pytest.fixture
def toy(monkeypatch):
    """A tiny conv net marked pretrained (a frozen phase, then an unfrozen one)."""
    monkeypatch.setattr(setup, "build_model", toy_bundle)


def _cfg(**kw):
    return tiny_config(**{"image_size": 16, "epochs": 3, "freeze_epochs": 1, "lr": 0.01, **kw})


def test_the_loop_asks_the_strategy_at_each_phase_epoch_and_batch(tmp_path, toy):
    project = make_project(tmp_path / "p", n=24, size=16)
    s, rec = Recording(), Recorder()
    end = train(project, _cfg(), [rec], strategy=s)
    assert not end.cancelled and end.epochs_done == 3
    per_epoch = ["reduce_mean", "gather_metrics", "agree"]
    assert s.asked == ["wrap", *per_epoch, "wrap", *per_epoch * 2]  # frozen, then unfrozen
    steps = rec.get("on_fit_start")[0].steps_per_epoch
    assert s.checks[True] == 3 * steps  # before every training batch
    assert s.checks[False] >= 3  # validation batches too


def test_the_reported_figures_are_the_strategys(tmp_path, toy):
    """The validation loss is read after gather_metrics; a stop agreed by another process
    ends the run although this one's early stopping did not ask for it."""
    project = make_project(tmp_path / "p", n=24, size=16)
    s, rec = Recording(stop_after=2, loss=7.25), Recorder()
    end = train(project, _cfg(early_stopping_patience=0), [rec], strategy=s)
    assert not end.cancelled and end.epochs_done == 2  # of 3
    assert [e.valid_loss for e in rec.get("on_epoch_end")] == [7.25, 7.25]
    assert [h["valid_loss"] for h in end.history] == [7.25, 7.25]


def test_the_lr_finder_rate_goes_through_broadcast_float(tmp_path, toy, monkeypatch):
    from engine.training import lr_find

    monkeypatch.setattr(lr_find, "SWEEP_STEPS", 6)
    project = make_project(tmp_path / "p", n=24, size=16)
    s = Recording()
    train(project, _cfg(lr=None, epochs=1, freeze_epochs=0), strategy=s)
    assert s.asked[0] == "broadcast_float"


def test_a_stop_is_the_strategys_batch_check(tmp_path, toy):
    class StopAtThirdBatch(Recording):
        def check(self, control, *, training: bool) -> None:
            super().check(control, training=training)
            if training and self.checks[True] == 3:
                raise Cancelled()

    project = make_project(tmp_path / "p", n=24, size=16)
    rec = Recorder()
    end = train(project, _cfg(), [rec], strategy=StopAtThirdBatch())
    assert end.cancelled and len(rec.get("on_batch_end")) == 2
    assert (project.path / "models" / "runs" / end.run_id / "last.pt").is_file()


def test_a_process_that_is_not_the_main_one_writes_nothing(tmp_path, toy):
    """Rank 1 trains the same epochs, but no run folder, checkpoint, model in use, settings
    or event to the caller comes from it."""
    project = make_project(tmp_path / "p", n=24, size=16)
    settings = project.path / "training.json"
    before = settings.read_text() if settings.exists() else None
    rec = Recorder()
    end = train(project, _cfg(), [rec], strategy=Recording(rank=1))
    assert not end.cancelled and end.epochs_done == 3 and len(end.history) == 3
    assert end.run_id == "" and end.checkpoint == ""
    assert rec.events == {}
    models = project.path / "models"
    assert not (models / "runs").exists() and not (models / "best.pt").exists()
    assert (settings.read_text() if settings.exists() else None) == before


def test_every_process_has_the_same_callbacks(tmp_path, toy, monkeypatch):
    monkeypatch.setenv("TOPDOWN_FAULT_EXIT", "1:5")  # a test hook that only rank 1 acts on
    project = make_project(tmp_path / "p", n=24, size=16)
    kinds = [
        [type(cb).__name__ for cb in Loop(project, _cfg(), [Recorder()], strategy=s).callbacks]
        for s in (Recording(rank=0), Recording(rank=1))
    ]
    assert kinds[0] == kinds[1]
    assert kinds[0][-2:] == ["FaultExit", "ToCaller"] and "Checkpoints" in kinds[0]


def test_one_process_is_the_default(tmp_path, toy, monkeypatch):
    for var in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(var, raising=False)
    s = from_environment()
    assert isinstance(s, SingleProcess) and s.is_main and s.world_size == 1
    assert "not started by torchrun" in s.reason
    project = make_project(tmp_path / "p", n=24, size=16)
    assert isinstance(Loop(project, _cfg()).strategy, SingleProcess)
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    s = from_environment()  # torchrun's variables, but its group not joined
    assert isinstance(s, SingleProcess) and "not joined" in s.reason

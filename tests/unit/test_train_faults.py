"""Training faults and control: clear errors before a run, NaN and out-of-memory, a bad image
mid-run, pause / cancel / resume."""

from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
import torch
from PIL import Image

from engine.control import RunControl
from engine.errors import TrainingError, WeightsUnavailable
from engine.training.evaluation import load_evaluation
from engine.training.learner import Learner
from engine.training.runs import get_run, list_runs
from engine.training.train import train
from tests.support.projects import Recorder, make_project, tiny_config

ARCH = "mobilenet_v3_small"


def _cfg(**kw):
    return tiny_config(**{"arch": ARCH, **kw})


# ------------------------------------------------------------------ checks before training
def test_empty_class_is_named(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    project.add_class("zebra")
    with pytest.raises(TrainingError, match="'zebra'"):
        train(project, _cfg())


def test_single_class_dataset(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16, classes=("red",))
    with pytest.raises(TrainingError, match="one class"):
        train(project, _cfg())


def test_no_labeled_images(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=8)
    project.set_labels(project.query(), [])
    with pytest.raises(TrainingError, match="no labeled images"):
        train(project, _cfg())


def test_empty_validation_set(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    project.set_split(project.query(), "train")  # fixed by hand: not re-assigned
    with pytest.raises(TrainingError, match="validation set has no labeled images"):
        train(project, _cfg())


def test_mask_value_out_of_range_names_the_file(tmp_path):
    project = make_project(tmp_path / "p", "segmentation", n=12)
    rec = project.images(project.query(split="train"))[0]
    bad = np.zeros((32, 32), np.uint8)
    bad[3, 3] = 7
    Image.fromarray(bad).save(project.abspath(rec.mask))
    with pytest.raises(TrainingError, match=rf"{rec.mask}.*value 7"):
        train(project, _cfg(arch="lraspp_mobilenet_v3_large"))


def test_regression_label_not_a_number(tmp_path):
    project = make_project(tmp_path / "p", "regression", n=12)
    rec = project.images(project.query(split="train"))[1]
    # the Project API refuses such values; a hand-edited or older database may still hold one
    with project._db:
        project._db.execute("UPDATE images SET vals=? WHERE id=?", (json.dumps(["abc"]), rec.id))
    with pytest.raises(TrainingError, match=rf"{rec.name}.*not 1 finite number"):
        train(project, _cfg())


def test_weights_offline_propagates_before_training(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    rec = Recorder()
    with pytest.raises(WeightsUnavailable) as err:
        train(project, _cfg(weights="imagenet"), [rec])
    assert "mobilenet_v3_small" in str(err.value)
    assert not rec.get("on_fit_start") and not (project.path / "models" / "runs").exists()


# ------------------------------------------------------------------ faults during training
def test_nan_loss_stops_with_advice(tmp_path, monkeypatch):
    from engine.training import balance

    monkeypatch.setattr(balance, "make_loss", lambda spec, cfg: lambda out, y: out.sum() * np.nan)
    project = make_project(tmp_path / "p", "classification", n=16)
    rec = Recorder()
    with pytest.raises(TrainingError, match="lower learning rate"):
        train(project, _cfg(), [rec])
    assert isinstance(rec.get("on_exception")[0], TrainingError)
    (run,) = list_runs(project)
    assert run.status == "failed" and "lower learning rate" in run.error
    assert not (project.path / "models" / "best.pt").exists()


def test_out_of_memory_suggests_smaller_batch(tmp_path, monkeypatch):
    def oom(self, *a, **k):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(Learner, "train_step", oom)
    project = make_project(tmp_path / "p", "classification", n=16)
    with pytest.raises(TrainingError, match="smaller batch size"):
        train(project, _cfg())


def test_bad_image_mid_run_is_skipped_and_reported(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=24)
    rec_img = project.images(project.query(split="train"))[2]
    path = project.abspath(rec_img.file)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # changed on disk after import: truncated
    rec = Recorder()
    end = train(project, _cfg(), [rec])
    assert not end.cancelled and end.epochs_done == 2
    skipped = rec.get("on_skipped")
    assert len(skipped) == 1 and skipped[0].path == str(path)
    assert "trunc" in skipped[0].reason or "corrupt" in skipped[0].reason
    assert any(p == str(path) for p, _ in project.skipped())


# ------------------------------------------------------------------ control
def _run_in_thread(project, cfg, control, rec, resume=False):
    box = {}

    def target():
        try:
            box["end"] = train(project, cfg, [rec], control, resume=resume)
        except BaseException as e:  # noqa: BLE001 - reported to the test
            box["error"] = e

    th = threading.Thread(target=target, daemon=True)
    th.start()
    return th, box


def _wait(pred, timeout=60.0):
    t0 = time.monotonic()
    while not pred():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.01)


def test_pause_then_cancel_returns_quickly_and_saves_last(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=48)
    control, rec = RunControl(), Recorder()
    th, box = _run_in_thread(project, _cfg(epochs=20, image_size=48), control, rec)
    _wait(lambda: len(rec.get("on_batch_end")) >= 2)
    control.pause()
    time.sleep(0.3)
    n = len(rec.get("on_batch_end"))
    time.sleep(0.5)
    assert len(rec.get("on_batch_end")) <= n + 1  # at most the batch in flight finishes
    control.resume()
    _wait(lambda: len(rec.get("on_batch_end")) >= n + 2)
    t0 = time.monotonic()
    control.cancel()
    th.join(10)
    assert time.monotonic() - t0 < 2.0
    assert "error" not in box, box.get("error")
    end = box["end"]
    assert end.cancelled and rec.get("on_fit_end")[-1].cancelled
    ck = torch.load(project.path / "models" / "runs" / end.run_id / "last.pt", weights_only=True)
    assert ck["epoch"] == end.epochs_done


def test_resume_continues_from_last_checkpoint(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=24)
    control, rec = RunControl(), Recorder()

    class StopAfterSecondEpoch:
        def on_epoch_end(self, ev):
            if ev.epoch == 1:
                control.cancel()

    cfg = _cfg(epochs=3)  # from scratch: 3 unfrozen epochs
    end = train(project, cfg, [rec, StopAfterSecondEpoch()], control)
    assert end.cancelled and end.epochs_done == 2
    run_dir = project.path / "models" / "runs" / end.run_id
    assert torch.load(run_dir / "last.pt", weights_only=True)["epoch"] == 2
    assert get_run(project, end.run_id).status == "stopped"
    assert not (project.path / "models" / "best.pt").exists()  # stopped: no model in use yet

    rec2 = Recorder()
    end2 = train(project, cfg, [rec2], RunControl(), resume=True)
    assert not end2.cancelled and end2.epochs_done == 3 and end2.run_id == end.run_id
    assert [e.epoch for e in rec2.get("on_epoch_end")] == [2]
    assert rec2.get("on_batch_end")[0].step == 2 * rec2.get("on_fit_start")[0].steps_per_epoch
    assert [h["epoch"] for h in end2.history] == [0, 1, 2]
    assert get_run(project, end.run_id).status == "finished"
    assert load_evaluation(project).run_id == end.run_id
    assert len(list_runs(project)) == 1  # the same run went on, in its own folder
    with pytest.raises(TrainingError, match="already finished"):
        train(project, cfg, [], RunControl(), resume=True)


def test_cancel_during_lr_finder_returns_cancelled(tmp_path, monkeypatch):
    from engine.training import lr_find as lf

    monkeypatch.setattr(lf, "SWEEP_STEPS", 50)
    project = make_project(tmp_path / "p", "classification", n=16)
    control, rec = RunControl(), Recorder()

    class CancelEarly:
        def on_progress(self, ev):
            if ev.done == 2:
                control.cancel()

    end = train(project, _cfg(lr=None), [rec, CancelEarly()], control)
    assert end.cancelled and end.epochs_done == 0 and end.checkpoint == ""
    assert len(rec.get("on_progress")) == 2 and rec.get("on_fit_end") == [end]
    assert not rec.get("on_fit_start")


def test_early_stopping_ends_the_run_when_the_metric_stops_improving(tmp_path, monkeypatch):
    import engine.training.fit as fit

    calls = []
    monkeypatch.setattr(fit, "is_better", lambda task, v, best: not calls.append(v) and not best)
    project = make_project(tmp_path / "p", "classification", n=16)
    end = train(project, _cfg(freeze_epochs=0, epochs=5, early_stopping_patience=2))
    assert not end.cancelled and end.epochs_done == 3 and len(end.history) == 3
    assert end.best_epoch == 0 and (project.path / "models" / "evaluation.json").is_file()


# ------------------------------------------------------------ when a run's files are written
def _saves(monkeypatch, every_s: float) -> list:
    """Set how often a run writes its files; returns the (file, epoch) of each checkpoint write."""
    import engine.training.callbacks as cb

    monkeypatch.setattr(cb, "SAVE_EVERY_S", every_s)
    written, real = [], cb.atomic_save
    monkeypatch.setattr(
        cb,
        "atomic_save",
        lambda obj, path: written.append((path.name, obj["epoch"])) or real(obj, path),
    )
    return written


def test_quick_epochs_write_the_checkpoints_once_at_the_end(tmp_path, monkeypatch):
    import engine.training.fit as fit

    written = _saves(monkeypatch, 1e9)
    firsts = []  # only the first epoch is a new best
    monkeypatch.setattr(fit, "is_better", lambda task, v, best: not firsts and not firsts.append(v))
    project = make_project(tmp_path / "p", "classification", n=16)
    end = train(project, _cfg(freeze_epochs=0, epochs=3))
    assert not end.cancelled and end.best_epoch == 0
    assert written == [("best.pt", 1)]  # finished: no last.pt (a finished run is not resumed)
    run_dir = project.path / "models" / "runs" / end.run_id
    assert not (run_dir / "last.pt").exists()
    best = torch.load(run_dir / "best.pt", weights_only=True)
    assert best["metrics"] == end.history[0]["metrics"] and best["epoch"] == 1
    assert len(json.loads((run_dir / "history.json").read_text())) == 3
    assert get_run(project, end.run_id).epochs_done == 3


def test_a_killed_run_resumes_from_its_latest_write(tmp_path, monkeypatch):
    _saves(monkeypatch, 0.0)  # written after every epoch

    class Killed(BaseException):  # the process dies: nothing runs after it
        pass

    class KillDuringThirdEpoch:
        def on_batch_end(self, ev):
            if ev.epoch == 2:
                raise Killed

    project = make_project(tmp_path / "p", "classification", n=16)
    cfg = _cfg(freeze_epochs=0, epochs=4)
    with pytest.raises(Killed):
        train(project, cfg, [KillDuringThirdEpoch()])
    (run,) = list_runs(project)
    assert run.status == "running" and run.epochs_done == 2
    assert torch.load(run.last_file, weights_only=True)["epoch"] == 2
    end = train(project, cfg, [], RunControl(), resume=True)
    assert not end.cancelled and end.run_id == run.run_id
    assert [h["epoch"] for h in end.history] == [0, 1, 2, 3]


def test_ctrl_c_saves_the_run_as_stopped_for_resume(tmp_path, monkeypatch):
    written = _saves(monkeypatch, 1e9)

    class CtrlCInSecondEpoch:
        def on_batch_end(self, ev):
            if ev.epoch == 1:
                raise KeyboardInterrupt

    project = make_project(tmp_path / "p", "classification", n=16)
    cfg = _cfg(freeze_epochs=0, epochs=3)
    with pytest.raises(KeyboardInterrupt):
        train(project, cfg, [CtrlCInSecondEpoch()])
    (run,) = list_runs(project)
    assert run.status == "stopped" and ("last.pt", 1) in written
    assert not (project.path / "models" / "best.pt").exists()  # the model in use stays
    end = train(project, cfg, [], RunControl(), resume=True)
    assert end.run_id == run.run_id and [h["epoch"] for h in end.history] == [0, 1, 2]


def test_a_run_that_diverges_keeps_its_best_epoch_but_no_broken_state(tmp_path, monkeypatch):
    from engine.training import balance

    _saves(monkeypatch, 1e9)
    broken = []
    real = balance.make_loss

    def make_loss(spec, cfg):
        loss = real(spec, cfg)
        return lambda out, y: loss(out, y) * (np.nan if broken else 1.0)

    class BreakAfterFirstEpoch:
        def on_epoch_end(self, ev):
            broken.append(True)

    monkeypatch.setattr(balance, "make_loss", make_loss)
    project = make_project(tmp_path / "p", "classification", n=16)
    with pytest.raises(TrainingError, match="lower learning rate"):
        train(project, _cfg(freeze_epochs=0, epochs=3), [BreakAfterFirstEpoch()])
    (run,) = list_runs(project)
    assert run.status == "failed" and run.epochs_done == 1
    assert torch.load(run.best_file, weights_only=True)["epoch"] == 1
    assert not run.last_file.exists()  # its weights were not finite any more
    assert not (project.path / "models" / "best.pt").exists()

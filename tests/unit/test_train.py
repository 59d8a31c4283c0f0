"""End-to-end training on tiny generated projects: every task, learning, LR finder, checkpoints,
evaluation, pretrained weights through the real loading path."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from engine.events import BatchEnd, EpochEnd, FitEnd, FitStart
from engine.training import lr_find as lf
from engine.training.evaluation import load_evaluation
from engine.training.runs import get_run
from engine.training.setup import build_run
from engine.training.train import lr_find, train
from tests.support.projects import Recorder, make_project, tiny_config

EXPECTED = {
    "classification": {"error_rate", "accuracy"},
    "multilabel": {"f1_macro", "accuracy", "f1/red", "f1/blue"},
    "regression": {"mae", "rmse"},
    "segmentation": {"pixel_accuracy", "miou", "dice", "iou/background", "iou/square"},
}
ARCH = {"segmentation": "lraspp_mobilenet_v3_large"}


def _plain(value) -> bool:
    """True if an event field holds no tensor anywhere (plain values / numpy copies only)."""
    if isinstance(value, torch.Tensor):
        return False
    if dataclasses.is_dataclass(value):
        return all(_plain(getattr(value, f.name)) for f in dataclasses.fields(value))
    if isinstance(value, dict):
        return all(_plain(k) and _plain(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return isinstance(value, (int, float, str, bool, type(None), np.ndarray, np.generic))


@pytest.mark.parametrize("task", ["classification", "multilabel", "regression", "segmentation"])
def test_each_task_trains_end_to_end(tmp_path, task):
    project = make_project(tmp_path / "p", task, n=24 if task != "classification" else 32)
    rec = Recorder()
    end = train(project, tiny_config(arch=ARCH.get(task, "mobilenet_v3_small")), [rec])

    assert isinstance(end, FitEnd) and not end.cancelled and end.epochs_done == 2
    assert [h["frozen"] for h in end.history] == [False, False]  # from scratch: nothing frozen
    start = rec.get("on_fit_start")[0]
    assert isinstance(start, FitStart) and start.task == task and start.epochs == 2
    assert start.freeze_epochs == 0
    epochs = rec.get("on_epoch_end")
    assert len(epochs) == 2 and all(isinstance(e, EpochEnd) for e in epochs)
    assert EXPECTED[task] <= set(epochs[-1].metrics)
    assert all(np.isfinite(e.train_loss) and np.isfinite(e.valid_loss) for e in epochs)
    batches = rec.get("on_batch_end")
    assert batches and all(isinstance(b, BatchEnd) and b.loss > 0 for b in batches)
    assert not any(b.frozen for b in batches)
    for hook, events in rec.events.items():
        assert all(_plain(e) for e in events), f"{hook} carried a tensor"

    models = project.path / "models"
    run_dir = models / "runs" / end.run_id
    assert end.run_id and end.checkpoint == str(run_dir / "best.pt")
    for name in ("best.pt", "history.json", "run.json"):
        assert (run_dir / name).is_file(), name
    assert not (run_dir / "last.pt").exists()  # a finished run is not resumed: no 100 MB state
    for name in ("best.pt", "evaluation.json"):  # the first finished run: now the model in use
        assert (models / name).is_file(), name
    ck = torch.load(models / "best.pt", weights_only=True)
    assert ck["format"] == "topdown-model" and ck["task"] == task and ck["run_id"] == end.run_id
    assert ck["image_size"] == 32 and len(ck["mean"]) == 3 and ck["model_state"]
    assert project.load_settings()["arch"] == ARCH.get(task, "mobilenet_v3_small")

    ev = load_evaluation(project)
    n_valid = len(project.query(split="valid"))
    assert ev is not None and ev.task == task and len(ev.items) == n_valid
    assert ev.run_id == end.run_id
    losses = [it.loss for it in ev.most_wrong()]
    assert losses == sorted(losses, reverse=True)
    if task == "classification":
        assert ev.confusion.shape == (2, 2) and ev.confusion.sum() == n_valid
        assert all(it.correct == (it.target == it.prediction) for it in ev.items)
        assert all(abs(sum(it.probabilities) - 1) < 1e-4 for it in ev.items)
    if task == "segmentation":
        masks = ev.masks()
        assert len(masks) == n_valid and next(iter(masks.values())).shape == (32, 32)


def test_a_run_learns_red_from_blue(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=48)
    cfg = tiny_config(arch="resnet18", freeze_epochs=0, epochs=3, lr=2e-3)
    end = train(project, cfg)
    hist = end.history
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert end.best_metric >= 0.9  # chance is 0.5
    ev = load_evaluation(project)
    assert ev.metrics["accuracy"] >= 0.9


def test_regression_model_outputs_real_units(tmp_path):
    """The saved model predicts in the targets' units (normalisation folded into the head)."""
    from engine.imaging import load_rgb
    from engine.models.checkpoint import load_checkpoint
    from engine.models.registry import build_model

    project = make_project(tmp_path / "p", "regression", n=24)
    train(project, tiny_config(arch="mobilenet_v3_small", epochs=2))
    ck = load_checkpoint(project.path / "models" / "best.pt")
    bundle = build_model(ck["arch"], "regression", ck["n_outputs"], "none")
    bundle.model.load_state_dict(ck["model_state"])
    bundle.model.eval()
    ev = load_evaluation(project)
    item = ev.items[0]
    rec = project.image(item.image_id)
    im = load_rgb(project.abspath(rec.file)).resize((32, 32))
    x = torch.from_numpy(np.asarray(im, np.float32) / 255).permute(2, 0, 1)
    x = (x - torch.tensor(ck["mean"])[:, None, None]) / torch.tensor(ck["std"])[:, None, None]
    with torch.no_grad():
        out = float(bundle.model(x[None])[0, 0])
    assert out == pytest.approx(item.prediction[0], abs=1e-2)
    assert item.target[0] == pytest.approx(rec.values[0], abs=1e-3)
    assert ev.metrics["mae"] == pytest.approx(
        np.mean([abs(i.prediction[0] - i.target[0]) for i in ev.items]), rel=1e-3
    )


def test_lr_find_gives_a_curve_and_keeps_weights(tmp_path):
    from engine.training.lr_find import run_lr_find

    project = make_project(tmp_path / "p", "classification", n=24)
    res = lr_find(project, tiny_config(arch="mobilenet_v3_small"), num_it=20)
    assert len(res.lrs) == len(res.losses) >= 5  # it stops once the loss explodes
    assert np.all(np.diff(res.lrs) > 0) and np.all(np.isfinite(res.losses))
    assert res.lrs[0] <= res.suggestion <= res.lrs[-1]

    run = build_run(project, tiny_config(arch="mobilenet_v3_small"))
    before = {k: v.clone() for k, v in run.bundle.model.state_dict().items()}
    run_lr_find(run.learner, run.train_loader, num_it=6)
    after = run.bundle.model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)


def test_auto_lr_runs_the_finder_first(tmp_path, monkeypatch):
    monkeypatch.setattr(lf, "SWEEP_STEPS", 8)
    project = make_project(tmp_path / "p", "classification", n=24)
    rec = Recorder()
    end = train(project, tiny_config(arch="mobilenet_v3_small", lr=None, epochs=1), [rec])
    assert not end.cancelled
    progress = rec.get("on_progress")
    assert progress and progress[-1].total == 8
    assert get_run(project, end.run_id).lr_used > 0  # the finder's rate, in run.json


def test_pretrained_weights_load_through_the_real_path(tmp_path):
    from tests.support.weights import install_fake_weights

    install_fake_weights("mobilenet_v3_small")
    project = make_project(tmp_path / "p", "classification", n=24)
    end = train(project, tiny_config(arch="mobilenet_v3_small", weights="imagenet", epochs=1))
    assert not end.cancelled and end.checkpoint.endswith("best.pt")
    ck = torch.load(end.checkpoint, weights_only=True)
    assert ck["config"]["weights"] == "imagenet"

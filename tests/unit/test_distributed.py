"""Training on several processes (engine.training.strategy.DDP), on this machine's CPU with gloo:
two processes train what one process trains with the same global batch, only rank 0 writes,
the checkpoint says how many processes trained it, and a process that dies stops the run with a
message while last.pt keeps the last finished epoch."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from engine.errors import TrainingError
from engine.event_stream import Result, decode
from engine.project.store import Project
from engine.training.train import train
from tests.support.distributed import free_port, torchrun_cmd, torchrun_env, toy_worker
from tests.support.projects import make_project, tiny_config

NO_AUG = dict(flip=False, rotate=False, resized_crop=False, color_jitter=0.0)


def _last(project_dir: Path, name: str = "last.pt") -> tuple[dict, dict]:
    """The newest run's checkpoint `name` (a finished run keeps best.pt only) and run.json."""
    run = sorted((project_dir / "models" / "runs").iterdir())[-1]
    ckpt = torch.load(run / name, weights_only=True)
    return ckpt, json.loads((run / "run.json").read_text())


def _history(project_dir: Path) -> list[dict]:
    run = sorted((project_dir / "models" / "runs").iterdir())[-1]
    return json.loads((run / "history.json").read_text())


def test_two_processes_train_the_weights_one_process_trains(tmp_path):
    """A BatchNorm-free network (so the per-process batch statistics cannot differ), no
    augmentation: two gloo processes with batches of 4 end with the weights, losses and
    metrics of one process with batches of 8 (the same global batch), frozen phase and
    unfrozen phase both. 11 validation images are dealt 6 / 5, so rank 0's share alone would
    give another validation loss: equal losses show the metrics are gathered from both."""
    project = make_project(tmp_path / "one", n=47, size=16)
    cfg = tiny_config(image_size=16, epochs=2, freeze_epochs=1, lr=0.01, weights="imagenet")
    for k, v in NO_AUG.items():
        setattr(cfg, k, v)
    project.save_settings(cfg.to_dict())
    project.close()
    shutil.copytree(tmp_path / "one", tmp_path / "two")
    for world, name in ((1, "one"), (2, "two")):
        mp.spawn(toy_worker, args=(world, free_port(), str(tmp_path / name)), nprocs=world)
    (one, rec1), (two, rec2) = (
        _last(tmp_path / "one", "best.pt"),
        _last(tmp_path / "two", "best.pt"),
    )
    hist1, hist2 = _history(tmp_path / "one"), _history(tmp_path / "two")
    assert (one["world_size"], two["world_size"]) == (1, 2)
    assert one["global_batch_size"] == two["global_batch_size"] == 8
    assert (rec1["world_size"], rec2["world_size"], rec2["global_batch_size"]) == (1, 2, 8)
    assert rec2["status"] == "finished" and len(hist2) == 2
    assert one["epoch"] == two["epoch"]  # the same best epoch, its weights compared below
    for k, w in one["model_state"].items():
        torch.testing.assert_close(two["model_state"][k], w, atol=1e-5, rtol=1e-4)
    body = one["model_state"]["0.0.weight"]
    assert not torch.equal(body, torch.zeros_like(body))
    for a, b in zip(hist1, hist2, strict=True):
        assert a["valid_loss"] == pytest.approx(b["valid_loss"], abs=1e-6)
        assert a["train_loss"] == pytest.approx(b["train_loss"], abs=1e-6)
        assert a["metrics"] == pytest.approx(b["metrics"], abs=1e-9)
    assert hist1[0]["frozen"] and not hist1[1]["frozen"]


def test_torchrun_cli_trains_like_one_process_and_streams_events(tmp_path):
    """`torchrun --nproc-per-node 2 main.py train P --events jsonl` with a real network
    (mobilenet_v3_small: BatchNorm and dropout, so weights cannot match exactly; each process
    normalises its own 4 images): the validation accuracy matches a single-process run's
    within 0.15 (the tiny project's colours are learned by both), stdout holds only event
    lines from rank 0 (one FitStart, one EpochEnd per epoch), and the model records 2."""
    project = make_project(tmp_path / "p", n=40, size=32)
    cfg = tiny_config(arch="mobilenet_v3_small", epochs=2, freeze_epochs=0, lr=3e-3, **NO_AUG)
    project.save_settings(cfg.to_dict())
    project.close()
    shutil.copytree(tmp_path / "p", tmp_path / "single")
    cmd = torchrun_cmd(2, "train", str(tmp_path / "p"), "--events", "jsonl")
    done = subprocess.run(cmd, env=torchrun_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    events = [decode(line) for line in done.stdout.splitlines() if line.strip()]
    names = [type(e).__name__ for e in events]
    assert names.count("FitStart") == 1 and names.count("EpochEnd") == 2
    assert isinstance(events[-1], Result) and events[-1].end.promoted
    ckpt, rec = _last(tmp_path / "p", "best.pt")
    assert ckpt["world_size"] == 2 and rec["world_size"] == 2
    single = Project.open(tmp_path / "single")
    try:
        end = train(single, cfg)
    finally:
        single.close()
    two = [e for e in events if type(e).__name__ == "EpochEnd"][-1].metrics["accuracy"]
    assert two == pytest.approx(end.history[-1]["metrics"]["accuracy"], abs=0.15)


def test_a_process_that_dies_stops_the_run_and_keeps_last(tmp_path):
    """With --lr auto (rank 0 sweeps, the rate is shared), rank 1 exits abruptly after epoch
    1 (test hook): rank 0 fails with a message naming the lost process and --resume,
    run.json says failed, last.pt keeps the finished epoch;
    resuming with another number of processes is refused with a clear message, and with the
    same number the run goes on from there to its end."""
    project = make_project(tmp_path / "p", n=24, size=16)
    cfg = tiny_config(arch="mobilenet_v3_small", image_size=16, epochs=2, freeze_epochs=0)
    project.save_settings(cfg.to_dict())
    project.close()
    cmd = torchrun_cmd(2, "train", str(tmp_path / "p"), "--lr", "auto")
    env = torchrun_env({"TOPDOWN_FAULT_EXIT": "1:0"})
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode != 0
    assert "stopped or lost contact" in done.stderr and "--resume" in done.stderr
    ckpt, rec = _last(tmp_path / "p")
    assert ckpt["epoch"] == 1 and ckpt["world_size"] == 2
    assert rec["status"] == "failed" and "lost contact" in rec["error"]
    found = json.loads((tmp_path / "p" / "models" / "lr_find.json").read_text())
    assert ckpt["lr_used"] == pytest.approx(found["suggestion"])  # rank 0's sweep, shared
    project = Project.open(tmp_path / "p")
    try:
        with pytest.raises(TrainingError, match="trained with 2 processes.*--nproc-per-node 2"):
            train(project, cfg, resume=True)
    finally:
        project.close()
    cmd = torchrun_cmd(2, "train", str(tmp_path / "p"), "--resume")
    done = subprocess.run(cmd, env=torchrun_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    _best, rec2 = _last(tmp_path / "p", "best.pt")
    assert rec2["run_id"] == rec["run_id"] and rec2["status"] == "finished"
    assert rec2["epochs_done"] == 2 and [h["epoch"] for h in _history(tmp_path / "p")] == [0, 1]

"""Helpers for the distributed-training tests: processes that join a gloo group the way torchrun
starts them (its environment variables), a tiny BatchNorm-free network, and a free port."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun_env(extra: dict | None = None) -> dict:
    """The environment for a `python -m torch.distributed.run` child running this checkout."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    env.update(extra or {})
    return env


def torchrun_cmd(nproc: int, *args: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        str(nproc),
        "--master-port",
        str(free_port()),
        str(REPO / "main.py"),
        *args,
    ]


def toy_bundle(arch, task, n_outputs, weights, on_download=None):
    """A conv body and a linear head, no BatchNorm or dropout: what N processes compute
    together is then what one process computes with the whole batch, to float rounding.
    Marked pretrained, so a run has a frozen phase and an unfrozen one."""
    from torch import nn

    from engine.models.registry import ModelBundle

    body = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    head = nn.Sequential(nn.Flatten(), nn.Linear(6, n_outputs))
    model = nn.Sequential(body, head)
    return ModelBundle(
        model=model, body=[body], head=list(head), arch=arch, task=task,
        n_outputs=n_outputs, pretrained=True,
    )  # fmt: skip


def toy_worker(rank: int, world: int, port: int, project_dir: str) -> None:
    """One process of a `world`-process run of `train` on the toy network (spawned)."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world),
        LOCAL_RANK=str(rank),
        LOCAL_WORLD_SIZE=str(world),
    )
    from engine.config import TrainConfig
    from engine.project.store import Project
    from engine.training import distributed
    from engine.training import setup as run_setup
    from engine.training.train import train

    run_setup.build_model = toy_bundle
    distributed.setup("cpu")
    try:
        project = Project.open(project_dir)
        try:
            train(project, TrainConfig.from_dict(project.load_settings()))
        finally:
            project.close()
    finally:
        distributed.teardown()

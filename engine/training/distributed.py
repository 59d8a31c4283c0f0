"""Joining and leaving torchrun's process group, for training one model on several processes
(DDP): `torchrun --nproc-per-node N main.py train PROJECT ...` (NCCL on CUDA GPUs, gloo on CPU).

`cli/train.py` calls `setup` before `train` and `teardown` after it; what the processes then do
together (the global batch split, the samplers, the DDP wrapper, the gathered metrics, the
agreed stop, rank 0 alone writing) is the `DDP` strategy of engine.training.strategy, which
`train` picks when the group is joined. Without torchrun's variables (RANK, WORLD_SIZE,
LOCAL_RANK) nothing here changes a run.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import torch
import torch.distributed as dist

from engine.control import RunControl
from engine.errors import TrainingError

TIMEOUT_MIN = float(os.environ.get("TOPDOWN_DIST_TIMEOUT_MIN", "30"))  # a collective's wait


def launched() -> bool:
    """True in a process that torchrun started (its rendezvous variables are set)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def active() -> bool:
    """True once this process joined the group (`setup`)."""
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    return dist.get_rank() if active() else 0


def world_size() -> int:
    return dist.get_world_size() if active() else 1


def is_main() -> bool:
    return rank() == 0


def local_rank() -> int:
    return int(os.environ.get("LOCAL_RANK", "0"))


def setup(device_pref: str = "auto") -> bool:
    """Join torchrun's process group (NCCL for CUDA, gloo otherwise); False when not launched
    by torchrun. Each process takes GPU LOCAL_RANK of its machine."""
    if not launched() or active():
        return active()
    from engine.devices import pick_device

    kind = pick_device(device_pref).type
    if kind == "mps":
        raise TrainingError(
            "Training on several processes needs CUDA GPUs or the CPU, not Apple's MPS."
        )
    if kind == "cuda":
        if local_rank() >= torch.cuda.device_count():
            raise TrainingError(
                f"Process {local_rank()} on this machine has no GPU of its own: "
                f"{torch.cuda.device_count()} visible. Use --nproc-per-node "
                f"{torch.cuda.device_count()} or fewer."
            )
        torch.cuda.set_device(local_rank())
    dist.init_process_group(
        "nccl" if kind == "cuda" else "gloo", timeout=timedelta(minutes=TIMEOUT_MIN)
    )
    return True


def teardown() -> None:
    if active():
        dist.destroy_process_group()


def install_signal_handlers(control: RunControl) -> None:
    """SIGINT / SIGTERM (torchrun passes both to each process) ask the run to stop; the
    processes agree on the stop at the next training batch (strategy.DDP.check)."""

    def stop(_sig, _frame):
        control.cancel()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

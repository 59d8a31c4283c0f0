"""Training one model on several processes with torch.distributed (DDP), as `torchrun` starts
them: `torchrun --nproc-per-node N main.py train PROJECT ...` (NCCL on CUDA GPUs, gloo on CPU).

Without torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK) nothing here changes a run. With them:
- `TrainConfig.batch_size` is the global batch: each of the N processes takes batch_size / N
  images a step and DDP averages the gradients, so the recipe (phases, one-cycle, rates) is the
  one a single process runs with the same batch.
- Training images: a DistributedSampler (shuffled per epoch, `set_epoch`); validation images are
  dealt out without padding and the metrics' sums / confusion matrix are all-reduced, so every
  process reports the figures of the whole validation split.
- The model is wrapped in DDP at the start of each phase (the frozen phase's body has no
  gradients, so the unfrozen phase needs a new wrapper that registers every parameter).
- Only rank 0 writes (settings, run folder, checkpoints, history, evaluation, LR finder cache)
  and reports events; the learning-rate finder runs on rank 0 and its rate is broadcast.
- A stop (SIGINT / SIGTERM, which torchrun passes to every process) is agreed on by all ranks at
  the next training batch, so rank 0 saves last.pt; a process that dies makes the others fail
  with a message saying so, and the last finished epoch's last.pt stays for `--resume`.
Which callbacks each rank runs is engine.training.distributed_callbacks.
"""

from __future__ import annotations

import contextlib
import os
import signal
from datetime import timedelta

import torch
import torch.distributed as dist
from torch.utils.data import Sampler

from engine.control import Cancelled, RunControl
from engine.errors import TrainingError

TIMEOUT_MIN = float(os.environ.get("TOPDOWN_DIST_TIMEOUT_MIN", "30"))  # a collective's wait


def launched() -> bool:
    """True in a process that torchrun started (its rendezvous variables are set)."""
    return "RANK" in os.environ and "WORLD_SIZE" in os.environ


def active() -> bool:
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


def device(dev: torch.device) -> torch.device:
    """The device this process trains on: its own GPU (LOCAL_RANK) under torchrun."""
    if active() and dev.type == "cuda":
        return torch.device("cuda", local_rank())
    return dev


def _comm_device() -> torch.device:
    nccl = dist.get_backend() == "nccl"
    return torch.device("cuda", local_rank()) if nccl else torch.device("cpu")


def barrier() -> None:
    if active():
        dist.barrier()


@contextlib.contextmanager
def rank_zero_first():
    """Rank 0 does the block first (it may write: splits, downloaded weights), then the rest."""
    if not active():
        yield
        return
    if not is_main():
        dist.barrier()
    try:
        yield
    finally:
        if is_main():
            dist.barrier()


def main_lock(lock):
    """`lock` (a context manager) on rank 0, nothing on the other ranks."""
    return lock if is_main() else contextlib.nullcontext()


def broadcast_float(fn) -> float:
    """fn() on rank 0, its value on every rank (the LR finder's suggestion)."""
    if not active():
        return float(fn())
    t = torch.zeros(1, dtype=torch.float64, device=_comm_device())
    if is_main():
        t[0] = float(fn())
    dist.broadcast(t, 0)
    return float(t.item())


def rank_batch(global_batch: int) -> int:
    """Images per process and step: the global batch split evenly (TrainingError if it cannot)."""
    n = world_size()
    if n == 1:
        return int(global_batch)
    if global_batch % n or global_batch // n < 2:
        raise TrainingError(
            f"The batch size {global_batch} is the global batch: it must split evenly into at "
            f"least 2 images for each of the {n} processes. Use a multiple of {n} of at "
            f"least {2 * n} (for example {max(2, round(global_batch / n)) * n})."
        )
    return global_batch // n


class ShardSampler(Sampler):
    """Validation: every rank-th image from `rank`, no padding (no image counts twice)."""

    def __init__(self, n: int):
        self.n, self.rank, self.world = int(n), rank(), world_size()

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


class WeightedShardSampler(Sampler):
    """The class-balanced draw (engine.training.balance) made once with a shared seed per epoch
    and dealt out to the ranks, so together they draw what one process would."""

    def __init__(self, weights, seed: int):
        self.weights = torch.as_tensor(list(weights), dtype=torch.double)
        self.seed, self.epoch, self.rank, self.world = int(seed), 0, rank(), world_size()
        self.per_rank = len(self.weights) // self.world

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __iter__(self):
        gen = torch.Generator().manual_seed(self.seed + self.epoch)
        n = self.per_rank * self.world
        draw = torch.multinomial(self.weights, n, replacement=True, generator=gen).tolist()
        return iter(draw[self.rank : n : self.world])

    def __len__(self) -> int:
        return self.per_rank


def train_sampler(dataset, balanced, seed: int):
    """The training sampler: `balanced` (a WeightedRandomSampler or None) as it is on one
    process; under torchrun a DistributedSampler (or its balanced equivalent)."""
    if not active():
        return balanced
    if balanced is not None:
        return WeightedShardSampler(balanced.weights.tolist(), seed)
    from torch.utils.data.distributed import DistributedSampler

    return DistributedSampler(dataset, shuffle=True, seed=int(seed), drop_last=False)


def valid_sampler(dataset):
    return ShardSampler(len(dataset)) if active() else None


# ---- the model, the metrics and stopping -----------------------------------------------------


class _DDP(torch.nn.parallel.DistributedDataParallel):
    """DDP for training steps; evaluation calls the module itself (ranks validate different
    numbers of batches, so no collective may run there)."""

    def forward(self, *args, **kwargs):
        if not self.training:
            return self.module(*args, **kwargs)
        return super().forward(*args, **kwargs)


def wrap(run) -> None:
    """A fresh DDP wrapper over the parameters trainable now (called at each phase's start).
    Every architecture of the registry uses all its trainable parameters in both phases
    (checked: frozen parameters are not registered at all), so no unused-parameter search."""
    if not active():
        return
    model, dev = run.bundle.model, run.device
    ids = [dev.index if dev.index is not None else local_rank()] if dev.type == "cuda" else None
    run.learner.model = _DDP(model, device_ids=ids, find_unused_parameters=False)
    if isinstance(run.learner.control, SyncedControl):
        run.learner.control.synced = True


def unwrap(run) -> None:
    """Back to the plain model, with local (not agreed) stop checks."""
    run.learner.model = run.bundle.model
    if isinstance(run.learner.control, SyncedControl):
        run.learner.control.synced = False


class SyncedControl(RunControl):
    """A RunControl whose stop is agreed by every rank at the same training batch (one tiny
    all-reduce a step); outside training steps it checks locally, and during validation it
    never stops (the next training batch does)."""

    def __init__(self, learner):
        super().__init__()
        self.learner, self.synced = learner, False

    def check(self) -> None:
        if not self.synced:
            return super().check()
        if not self._running.is_set():
            self._running.wait()
        if not self.learner.model.training:
            return
        flag = torch.tensor([1.0 if self.cancelled else 0.0], device=_comm_device())
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        if flag.item() > 0:
            self.cancel()
            raise Cancelled()


def _stats_shape(m) -> tuple:
    if m.task in ("classification", "segmentation"):
        return (m.n, m.n)
    return (4, m.n) if m.task == "multilabel" else (2, m.n)


def gather_metrics(m, model) -> None:
    """Sum a Metrics' loss, count and statistics over all ranks (in place), after making every
    rank's BatchNorm statistics rank 0's (the ones its checkpoint saves)."""
    dev = _comm_device()
    for b in model.buffers():
        if b.is_floating_point() or b.dtype == torch.long:
            buf = b.data.to(dev)
            dist.broadcast(buf, 0)
            b.data.copy_(buf)
    stats = m._stats if m._stats is not None else torch.zeros(_stats_shape(m), dtype=torch.double)
    sums = torch.tensor([m.loss_sum, m.count], dtype=torch.double, device=dev)
    flat = torch.cat([stats.to(dev, torch.double).flatten(), sums])
    dist.all_reduce(flat)
    m.loss_sum, m.count = float(flat[-2]), int(round(float(flat[-1])))
    m._stats = flat[:-2].reshape(stats.shape).to(stats.device)


def attach(run, control: RunControl | None = None) -> None:
    """Make a built Run distributed: agreed stops, gathered validation metrics and train loss,
    and no project writes from ranks other than 0. Nothing when not under torchrun."""
    if not active():
        return
    learner = run.learner
    synced = SyncedControl(learner)
    outer = control or learner.control
    synced._cancel, synced._running = outer._cancel, outer._running  # one stop for both
    learner.control = synced
    if not is_main():
        learner.project = None
    plain = learner.metrics_factory

    def metrics_factory():
        m = plain()
        compute = m.compute

        def gathered():
            if active() and synced.synced:
                gather_metrics(m, run.bundle.model)
            return compute()

        m.compute = gathered
        return m

    learner.metrics_factory = metrics_factory
    train_epoch = learner.train_epoch

    def mean_train_epoch(loader, **kw):
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(kw["epoch"])
        t = torch.tensor([train_epoch(loader, **kw)], dtype=torch.double, device=_comm_device())
        dist.all_reduce(t)
        return float(t.item()) / world_size()

    learner.train_epoch = mean_train_epoch


def install_signal_handlers(control: RunControl) -> None:
    """SIGINT / SIGTERM (torchrun passes both to each process) ask the run to stop."""

    def stop(_sig, _frame):
        control.cancel()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


# ---- resume, errors --------------------------------------------------------------------------


def check_resume(ckpt: dict, where: str) -> None:
    """Refuse to resume a run with another number of processes than it was trained with."""
    saved, now = int(ckpt.get("world_size", 1) or 1), world_size()
    if saved != now:
        how = "one process" if saved == 1 else f"{saved} processes"
        raise TrainingError(
            f"The run in {where} was trained with {how} and this run has {now}. Resume it with "
            f"the same number (torchrun --nproc-per-node {saved} ..., or without torchrun for "
            "one), or start a new run."
        )


def explain(error: BaseException) -> BaseException:
    """A lost peer's low-level error (gloo / NCCL) as a TrainingError a user can act on."""
    if not active() or isinstance(error, TrainingError):
        return error
    text = str(error)
    dist_error = getattr(dist, "DistError", ())
    lost = isinstance(error, dist_error) or any(
        k in text for k in ("Connection closed", "Connection reset", "gloo", "NCCL", "timed out")
    )
    if not lost:
        return error
    return TrainingError(
        f"Another training process (one of {world_size()}) stopped or lost contact, so the run "
        f"stopped at rank {rank()}. The run's last.pt keeps the last finished epoch: continue "
        f"with --resume and the same number of processes. ({text.splitlines()[0][:200]})"
    )

"""How many processes train one model, and what they must agree on: `SingleProcess` (the
default) or `DDP` (under torchrun), with the same questions and answers that differ.

The loop (engine.training.fit.Loop) asks its strategy wherever processes must agree, as
Lightning's trainer asks its Strategy: the batch each process takes, its samplers, the model
wrapped for training (`wrap`), the mean train loss (`reduce_mean`), the validation metrics of
all processes (`gather_metrics`), a stop (`check` at every training batch, `agree` on early
stopping), the LR finder's rate (`broadcast_float`), and which process writes (`is_main`,
Lightning's is_global_zero: checkpoints, history, the run's record, events to the caller). Every
process has the same callbacks; the writers among them ask `is_main`.

Under torchrun (`DDP`, once engine.training.distributed.setup joined the group):
- `TrainConfig.batch_size` is the global batch: each of the N processes takes batch_size / N
  images a step and DDP averages the gradients, so the recipe (phases, one-cycle, rates) is the
  one a single process runs with the same batch.
- Training images: a DistributedSampler (shuffled per epoch, `set_epoch`); validation images are
  dealt out without padding and the metrics' sums / confusion matrix are all-reduced, so every
  process reports the figures of the whole validation split.
- The model is wrapped at the start of each phase (the frozen phase's body has no gradients,
  so the unfrozen phase needs a new wrapper that registers every parameter).
- A stop (SIGINT / SIGTERM, which torchrun passes to every process) is agreed on by all ranks at
  the next training batch, so rank 0 saves last.pt; a process that dies makes the others fail
  with a message saying so (`explain`), and the last finished epoch's last.pt stays for
  `--resume`.
"""

from __future__ import annotations

import contextlib

import torch
import torch.distributed as dist
from torch.utils.data import Sampler

from engine.control import Cancelled, RunControl
from engine.errors import TrainingError
from engine.training import distributed


class Strategy:
    """The questions the loop asks, with one process's answers (`SingleProcess`)."""

    rank, world_size, is_main = 0, 1, True
    reason = "one process"  # why this strategy, in words

    def device(self, dev: torch.device) -> torch.device:
        """The device this process trains on."""
        return dev

    def main_lock(self, lock):
        """`lock` (a context manager) held for all processes: by rank 0 alone."""
        return lock

    def rank_zero_first(self):
        """A block that may write (splits, downloaded weights): rank 0 first, then the rest."""
        return contextlib.nullcontext()

    def rank_batch(self, global_batch: int) -> int:
        """Images per process and step."""
        return int(global_batch)

    def train_sampler(self, dataset, balanced, seed: int):
        """The training sampler: `balanced` (a WeightedRandomSampler or None) as it is."""
        return balanced

    def valid_sampler(self, dataset):
        """The validation sampler (None: every image, in order)."""
        return None

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """The model that training steps call, over the parameters trainable now."""
        return model

    def check(self, control: RunControl, *, training: bool) -> None:
        """The check before each batch: pause, and stop (Cancelled) when asked."""
        control.check()

    def agree(self, flag: bool) -> bool:
        """True when any process says so (Lightning's reduce_boolean_decision, all=False)."""
        return bool(flag)

    def reduce_mean(self, value: float) -> float:
        """The mean of `value` over the processes."""
        return float(value)

    def gather_metrics(self, metrics, model: torch.nn.Module) -> None:
        """Make a Metrics' sums those of every process's validation images (in place)."""

    def broadcast_float(self, fn) -> float:
        """fn() on rank 0, its value on every process (the LR finder's suggestion)."""
        return float(fn())

    def device_label(self, label: str) -> str:
        """FitStart's device, in words."""
        return label

    def explain(self, error: BaseException) -> BaseException:
        """A low-level error as one a person can act on (a lost process, in words)."""
        return error


class SingleProcess(Strategy):
    """One process trains the model: every question has the obvious answer."""

    def __init__(self, reason: str = "one process: not started by torchrun"):
        self.reason = reason


class DDP(Strategy):
    """torch's DistributedDataParallel over the processes torchrun started (gloo or NCCL)."""

    def __init__(self):
        if not distributed.active():
            raise TrainingError("DDP needs torchrun's process group (distributed.setup) first.")
        self.rank, self.world_size = dist.get_rank(), dist.get_world_size()
        self.is_main, self.local_rank = self.rank == 0, distributed.local_rank()
        self.nccl = dist.get_backend() == "nccl"
        self.reason = (
            f"DDP over {self.world_size} processes ({dist.get_backend()}): torchrun started "
            f"this one as rank {self.rank}"
        )

    def _comm_device(self) -> torch.device:
        return torch.device("cuda", self.local_rank) if self.nccl else torch.device("cpu")

    def device(self, dev: torch.device) -> torch.device:
        """Its own GPU (LOCAL_RANK) on a CUDA machine."""
        return torch.device("cuda", self.local_rank) if dev.type == "cuda" else dev

    def main_lock(self, lock):
        return lock if self.is_main else contextlib.nullcontext()

    @contextlib.contextmanager
    def rank_zero_first(self):
        if not self.is_main:
            dist.barrier()
        try:
            yield
        finally:
            if self.is_main:
                dist.barrier()

    def rank_batch(self, global_batch: int) -> int:
        """The global batch split evenly (TrainingError if it cannot)."""
        n = self.world_size
        if global_batch % n or global_batch // n < 2:
            raise TrainingError(
                f"The batch size {global_batch} is the global batch: it must split evenly into "
                f"at least 2 images for each of the {n} processes. Use a multiple of {n} of at "
                f"least {2 * n} (for example {max(2, round(global_batch / n)) * n})."
            )
        return global_batch // n

    def train_sampler(self, dataset, balanced, seed: int):
        """A DistributedSampler, or the class-balanced draw dealt out to the ranks."""
        if balanced is not None:
            weights = balanced.weights.tolist()
            return WeightedShardSampler(weights, seed, self.rank, self.world_size)
        from torch.utils.data.distributed import DistributedSampler

        return DistributedSampler(dataset, shuffle=True, seed=int(seed), drop_last=False)

    def valid_sampler(self, dataset):
        return ShardSampler(len(dataset), self.rank, self.world_size)

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        """A fresh DDP wrapper (called at each phase's start). Every architecture of the
        registry uses all its trainable parameters in both phases (checked: frozen parameters
        are not registered at all), so no unused-parameter search."""
        ids = [device.index if device.index is not None else self.local_rank]
        return _DDP(
            model, device_ids=ids if device.type == "cuda" else None, find_unused_parameters=False
        )

    def check(self, control: RunControl, *, training: bool) -> None:
        """Training batches: a stop agreed by every rank at the same batch (one tiny
        all-reduce a step); validation never stops (the next training batch does)."""
        control.wait()
        if training and self.agree(control.cancelled):
            control.cancel()
            raise Cancelled()

    def agree(self, flag: bool) -> bool:
        t = torch.tensor([1.0 if flag else 0.0], device=self._comm_device())
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item() > 0)

    def reduce_mean(self, value: float) -> float:
        t = torch.tensor([float(value)], dtype=torch.double, device=self._comm_device())
        dist.all_reduce(t)
        return float(t.item()) / self.world_size

    def gather_metrics(self, metrics, model: torch.nn.Module) -> None:
        """Sum the loss, count and statistics over all ranks, after making every rank's
        BatchNorm statistics rank 0's (the ones its checkpoint saves)."""
        m, dev = metrics, self._comm_device()
        for b in model.buffers():
            if b.is_floating_point() or b.dtype == torch.long:
                buf = b.data.to(dev)
                dist.broadcast(buf, 0)
                b.data.copy_(buf)
        stats = m._stats if m._stats is not None else torch.zeros(_shape(m), dtype=torch.double)
        sums = torch.tensor([m.loss_sum, m.count], dtype=torch.double, device=dev)
        flat = torch.cat([stats.to(dev, torch.double).flatten(), sums])
        dist.all_reduce(flat)
        m.loss_sum, m.count = float(flat[-2]), int(round(float(flat[-1])))
        m._stats = flat[:-2].reshape(stats.shape).to(stats.device)

    def broadcast_float(self, fn) -> float:
        t = torch.zeros(1, dtype=torch.float64, device=self._comm_device())
        if self.is_main:
            t[0] = float(fn())
        dist.broadcast(t, 0)
        return float(t.item())

    def device_label(self, label: str) -> str:
        return f"{label} x {self.world_size} processes"

    def explain(self, error: BaseException) -> BaseException:
        """A lost peer's low-level error (gloo / NCCL) as a TrainingError naming --resume."""
        if isinstance(error, TrainingError):
            return error
        text = str(error)
        dist_error = getattr(dist, "DistError", ())
        lost = isinstance(error, dist_error) or any(
            k in text
            for k in ("Connection closed", "Connection reset", "gloo", "NCCL", "timed out")
        )
        if not lost:
            return error
        return TrainingError(
            f"Another training process (one of {self.world_size}) stopped or lost contact, so "
            f"the run stopped at rank {self.rank}. The run's last.pt keeps the last finished "
            "epoch: continue with --resume and the same number of processes. "
            f"({text.splitlines()[0][:200]})"
        )


def from_environment() -> Strategy:
    """`DDP` in a process that joined torchrun's group, else `SingleProcess` (saying why)."""
    if distributed.active():
        return DDP()
    if distributed.launched():
        return SingleProcess(
            "one process: torchrun's variables are set but its process group was not joined "
            "(engine.training.distributed.setup)"
        )
    return SingleProcess()


class _DDP(torch.nn.parallel.DistributedDataParallel):
    """DDP for training steps; evaluation calls the module itself (ranks validate different
    numbers of batches, so no collective may run there)."""

    def forward(self, *args, **kwargs):
        if not self.training:
            return self.module(*args, **kwargs)
        return super().forward(*args, **kwargs)


def _shape(m) -> tuple:
    """The shape of a Metrics' statistics (for a rank that validated no batch)."""
    if m.task in ("classification", "segmentation"):
        return (m.n, m.n)
    return (4, m.n) if m.task == "multilabel" else (2, m.n)


class ShardSampler(Sampler):
    """Validation: every world-th image from `rank`, no padding (no image counts twice)."""

    def __init__(self, n: int, rank: int, world: int):
        self.n, self.rank, self.world = int(n), int(rank), int(world)

    def __iter__(self):
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


class WeightedShardSampler(Sampler):
    """The class-balanced draw (engine.training.balance) made once with a shared seed per epoch
    and dealt out to the ranks, so together they draw what one process would."""

    def __init__(self, weights, seed: int, rank: int, world: int):
        self.weights = torch.as_tensor(list(weights), dtype=torch.double)
        self.seed, self.epoch, self.rank, self.world = int(seed), 0, int(rank), int(world)
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

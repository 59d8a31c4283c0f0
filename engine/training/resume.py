"""Continuing a run that did not finish, in one place (`Resume`): which run and checkpoint
(`Resume.latest`: the latest unfinished run's last.pt), the settings it trained with
(`config`), the model, epochs, best and rate it had (`restore`), and the optimizer and schedule
of the phase it stopped in (`restore_optimizer`). `Resume()` is a new run: nothing to restore.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.config import TrainConfig
from engine.errors import TrainingError
from engine.models.checkpoint import load_checkpoint, load_model_state
from engine.training import runs
from engine.training.setup import Run, target_norm
from engine.training.state import FitState

# settings of this machine, not of the run: a resumed run keeps the ones asked for now
MACHINE = ("device", "num_workers", "leave_one_core", "cache_mb")


@dataclass(frozen=True)
class Resume:
    """The run to continue and its last.pt (both None: a new run)."""

    record: runs.RunRecord | None = None
    ckpt: dict | None = None

    @classmethod
    def latest(cls, project, world_size: int = 1) -> Resume:
        """The latest run that did not finish; TrainingError says why there is none, why its
        last.pt cannot be read, or that it trained with another number of processes."""
        record = runs.resumable_run(project)
        try:
            ckpt = load_checkpoint(record.last_file)
        except Exception as e:
            raise TrainingError(f"{record.last_file} cannot be read ({e}); start a new run.") from e
        saved = int(ckpt.get("world_size", 1) or 1)
        if saved != world_size:
            how = "one process" if saved == 1 else f"{saved} processes"
            raise TrainingError(
                f"The run in {record.last_file} was trained with {how} and this run has "
                f"{world_size}. Resume it with the same number (torchrun --nproc-per-node "
                f"{saved} ..., or without torchrun for one), or start a new run."
            )
        return cls(record, ckpt)

    def config(self, config: TrainConfig) -> TrainConfig:
        """The settings to train with: a copy of `config`, or the resumed run's own settings
        with this machine's (MACHINE) from `config`."""
        if self.ckpt is None:
            return TrainConfig.from_dict(config.to_dict())
        keep = {k: getattr(config, k) for k in MACHINE}
        return TrainConfig.from_dict({**self.ckpt["config"], **keep})

    def restore(self, run: Run, state: FitState) -> None:
        """The resumed run's model, epochs done, best and learning rate (nothing for a new run).
        TrainingError if the project's classes changed since or the run has no epoch left."""
        ckpt, spec = self.ckpt, run.spec
        if ckpt is None:
            return
        if list(ckpt.get("class_names", [])) != list(spec.class_names) or (
            ckpt.get("n_outputs") != spec.n_outputs
        ):
            raise TrainingError(
                "The project's classes changed since the interrupted run; start a new run."
            )
        state.start_epoch = int(ckpt["epoch"])
        state.history = list(ckpt.get("history", []))
        state.best, state.best_epoch = ckpt.get("best_metric"), int(ckpt.get("best_epoch", -1))
        state.lr = float(ckpt["lr_used"])
        mean, std = target_norm(spec, ckpt.get("target_mean"), ckpt.get("target_std"))
        load_model_state(run.bundle, ckpt["model_state"], mean, std)
        if state.start_epoch >= state.total_epochs:
            raise TrainingError(
                f"The run in {self.record.last_file} already finished all "
                f"{state.total_epochs} epochs; start a new run instead of resuming."
            )

    def restore_optimizer(self, optimizer, scheduler, *, phase: str, phase_start: int,
                          first_epoch: int, steps_per_epoch: int) -> None:  # fmt: skip
        """The optimizer and schedule where the run stopped, when it stopped in `phase` (a
        phase starting at epoch `phase_start`, resumed at `first_epoch`)."""
        ck = self.ckpt
        if ck is None or ck.get("phase") != phase or "optimizer_state" not in ck:
            return
        optimizer.load_state_dict(ck["optimizer_state"])
        scheduler.load_state_dict(ck["scheduler_state"])
        scheduler.last_epoch = (first_epoch - phase_start) * steps_per_epoch

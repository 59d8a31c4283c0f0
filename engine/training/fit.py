"""The epoch loop, torchvision style: `fit_epochs` trains and validates epoch after epoch and
reports each as an EpochEnd; `run_epoch` is one of them.

Everything else a run does around the epochs (best / last checkpoints, history, early stopping,
the final evaluation, the run's record) is an internal callback on the same events
(engine.training.callbacks), reading and writing the shared `FitState`, as Lightning's callbacks
read the trainer. The phases (frozen, then unfrozen) are engine.training.train.fine_tune.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from engine.errors import DivergedError, TrainingError
from engine.events import EpochEnd
from engine.models.checkpoint import load_model_state
from engine.training.learner import StepClock, emit
from engine.training.metrics import MAIN_METRIC, is_better, one_class_warning
from engine.training.setup import Run, target_norm


@dataclass
class FitState:
    """What the epochs share with the internal callbacks: plan, progress, best so far."""

    task: str
    lr: float | None  # peak learning rate of the frozen phase (None: not chosen yet)
    freeze_epochs: int
    total_epochs: int  # frozen included
    steps_per_epoch: int
    history: list[dict] = field(default_factory=list)  # one EpochEnd as a dict per epoch
    best: float | None = None  # best value of the monitored metric so far
    best_epoch: int = -1
    start_epoch: int = 0  # first epoch of this session (a resumed run starts later)
    phase: str | None = None  # "frozen" | "unfrozen" once an epoch runs
    optimizer: Any = None
    scheduler: Any = None
    should_stop: bool = False  # set by early stopping; the loop ends after this epoch
    resume: dict | None = None  # last.pt of the run being resumed
    t_start: float = 0.0

    @property
    def monitor(self) -> str:
        """The metric that decides the best epoch (engine.training.metrics.MAIN_METRIC)."""
        return MAIN_METRIC[self.task][0]

    def clock(self) -> StepClock:
        steps = self.steps_per_epoch
        return StepClock(self.t_start, self.start_epoch * steps, self.total_epochs * steps)


def resume_state(run: Run, state: FitState, ckpt: dict, where: str) -> None:
    """Continue the run saved in `ckpt` (a last.pt): its model, epochs, best and learning rate.
    TrainingError if the project's classes changed since or the run has no epoch left."""
    spec = run.spec
    if list(ckpt.get("class_names", [])) != list(spec.class_names) or (
        ckpt.get("n_outputs") != spec.n_outputs
    ):
        raise TrainingError(
            "The project's classes changed since the interrupted run; start a new run."
        )
    state.resume = ckpt
    state.start_epoch = int(ckpt["epoch"])
    state.history = list(ckpt.get("history", []))
    state.best, state.best_epoch = ckpt.get("best_metric"), int(ckpt.get("best_epoch", -1))
    state.lr = float(ckpt["lr_used"])
    mean, std = target_norm(spec, ckpt.get("target_mean"), ckpt.get("target_std"))
    load_model_state(run.bundle, ckpt["model_state"], mean, std)
    if state.start_epoch >= state.total_epochs:
        raise TrainingError(
            f"The run in {where} already finished all {state.total_epochs} epochs; start a "
            "new run instead of resuming."
        )


def restore_optimizer(state: FitState, *, phase_start: int, first_epoch: int) -> None:
    """A resumed run's optimizer and schedule, when it stopped in the phase starting now."""
    ck = state.resume
    if ck is None or ck.get("phase") != state.phase or "optimizer_state" not in ck:
        return
    state.optimizer.load_state_dict(ck["optimizer_state"])
    state.scheduler.load_state_dict(ck["scheduler_state"])
    state.scheduler.last_epoch = (first_epoch - phase_start) * state.steps_per_epoch


def fit_epochs(run: Run, state: FitState, callbacks, *, epochs: range, frozen: bool) -> None:
    """Train and validate `epochs` with the state's optimizer; on_epoch_end after each."""
    clock = state.clock()
    for epoch in epochs:
        emit(
            callbacks,
            "on_epoch_end",
            run_epoch(run, state, epoch=epoch, frozen=frozen, clock=clock),
        )
        if state.should_stop:
            break


def run_epoch(run: Run, state: FitState, *, epoch: int, frozen: bool, clock: StepClock) -> EpochEnd:
    """One training epoch and one validation pass; DivergedError on a NaN / inf figure."""
    t0 = time.perf_counter()
    train_loss = run.learner.train_epoch(
        run.train_loader,
        epoch=epoch,
        optimizer=state.optimizer,
        scheduler=state.scheduler,
        frozen=frozen,
        clock=clock,
    )
    metrics = run.learner.validate(run.valid_loader)
    valid_loss = metrics.pop("loss")
    if not all(map(_finite, [valid_loss, *metrics.values()])):
        raise DivergedError(
            f"The validation loss became {valid_loss} at epoch {epoch + 1}. "
            "Use a lower learning rate and train again."
        )
    improved = is_better(state.task, metrics.get(state.monitor), state.best)
    if improved:
        state.best, state.best_epoch = metrics[state.monitor], epoch
    return EpochEnd(
        epoch=epoch,
        train_loss=train_loss,
        valid_loss=valid_loss,
        metrics=metrics,
        frozen=frozen,
        seconds=time.perf_counter() - t0,
        is_best=improved,
        warning=one_class_warning(state.task, getattr(run.learner.last_metrics, "one_class", None)),
    )


def _finite(v) -> bool:
    return v == v and v not in (float("inf"), float("-inf"))

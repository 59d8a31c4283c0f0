"""The side jobs of a training run, as callbacks on the plain-value events the GUI gets.

Modelled on fastai's Recorder / SaveModelCallback / EarlyStoppingCallback and Lightning's
ModelCheckpoint / EarlyStopping: each does one job, reading the loop (engine.training.fit.Loop:
its run, settings, strategy, run record and shared `FitState`) as fastai's read `self.learn`.
`run_callbacks` lists them in the order they must see each event, the caller's callbacks last
(`ToCaller`). Every process of a torchrun run has the same list; the writers (`Writer`: files,
the model in use; `ToCaller`: events to the caller) act on rank 0 alone (`strategy.is_main`).
Files go to the run's own folder (engine.training.runs), written together by `Checkpoints` at
most every SAVE_EVERY_S and when the run ends, so that a killed run's files describe one and
the same epoch; only `ModelInUse` touches the model in use, when a run finishes.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict
from typing import Any, Protocol

from engine.config import TrainConfig
from engine.control import Cancelled
from engine.errors import DivergedError
from engine.events import Callback, EpochEnd, FitEnd, FitStart, emit
from engine.models.checkpoint import atomic_save, load_checkpoint, load_model_state, make_checkpoint
from engine.training.eval_run import evaluate_valid
from engine.training.runs import RunRecord, now, settle_model_in_use
from engine.training.setup import Run, target_norm
from engine.training.state import FitState
from engine.training.strategy import Strategy

SAVE_EVERY_S = 60.0  # a run's files are written at most this often during the run, and at its end
FAULT_ENV = "TOPDOWN_FAULT_EXIT"  # test hook "RANK:EPOCH": that rank exits at that epoch's end


class Trainer(Protocol):
    """What the callbacks read of the loop (engine.training.fit.Loop)."""

    project: Any
    config: TrainConfig
    run: Run
    state: FitState
    strategy: Strategy
    record: RunRecord | None  # the run's folder, from the fit's start on (rank 0)


class History(Callback):
    """Keeps every epoch's figures (FitState.history; `Checkpoints` writes history.json)."""

    def __init__(self, loop: Trainer):
        self.loop = loop

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.loop.state.history.append(asdict(event))


class EarlyStopping(Callback):
    """Stops after `patience` epochs without a new best (never during the frozen phase); every
    process sees the same gathered figures, and the loop has them agree (`strategy.agree`)."""

    def __init__(self, loop: Trainer):
        self.loop, self.bad_epochs = loop, 0
        self.patience = int(loop.config.early_stopping_patience)

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.bad_epochs = 0 if event.is_best else self.bad_epochs + 1
        if self.patience > 0 and self.bad_epochs >= self.patience and not event.frozen:
            self.loop.state.should_stop = True


class Writer(Callback):
    """A callback that writes the run's files: on rank 0 alone (`strategy.is_main`, Lightning's
    is_global_zero), and once the run has its folder (the fit started: not during the LR
    finder, nor for a resume refused before it)."""

    def __init__(self, loop: Trainer):
        self.loop = loop

    def on_event(self, event) -> None:
        if self.loop.strategy.is_main and self.loop.record is not None:
            super().on_event(event)

    @property
    def record(self) -> RunRecord:
        return self.loop.record


class ToCaller(Callback):
    """The caller's callbacks (the GUI's bridge, the CLI's progress, the event stream), told
    every event by rank 0 alone."""

    def __init__(self, callbacks, strategy: Strategy):
        self.callbacks, self.strategy = list(callbacks), strategy

    def on_event(self, event) -> None:
        if self.strategy.is_main:
            emit(self.callbacks, event)


class Checkpoints(Writer):
    """The run's files: best.pt (its best epoch), last.pt (its latest state, with optimizer and
    schedule, for resume), history.json and run.json's figures. A new best epoch is copied in
    memory at once; the files are written at most every SAVE_EVERY_S and when the run ends
    (finished, early-stopped, stopped or failed): writing them after every epoch took a third
    of a small run on a 2-core CPU. A killed process resumes from the latest write; a finished
    run cannot be resumed, so it keeps no last.pt."""

    def __init__(self, loop: Trainer):
        super().__init__(loop)
        self.best: dict | None = None  # this session's best epoch, as its checkpoint
        self.best_written = True
        self.saved_at = time.perf_counter()
        self.ended = False

    def on_fit_start(self, event: FitStart) -> None:
        self.saved_at = time.perf_counter()

    def on_epoch_end(self, event: EpochEnd) -> None:
        if event.is_best:
            self.best = self._checkpoint(epoch=event.epoch + 1, metrics=event.metrics)
            self.best_written = False
        if time.perf_counter() - self.saved_at >= SAVE_EVERY_S:
            self.save()

    def on_fit_end(self, event: FitEnd) -> None:
        if event.cancelled:
            self.save()  # with the interrupted epoch's progress, for resume
        else:  # finished (early stops too): never resumed, so no last.pt (134 MB for resnet18)
            self.save_best()
            self.save_record()
            self.record.last_file.unlink(missing_ok=True)  # a mid-run write, now stale
        self.ended = True

    def on_exception(self, error: BaseException) -> None:
        """A failed run keeps its best epoch, and its state for resume unless it diverged (its
        weights are then not finite; the latest write stays)."""
        if self.ended:  # failed after on_fit_end wrote both
            return
        try:
            self.save_best()
            if self.loop.state.history and not isinstance(error, DivergedError):
                self.save_last()
            self.save_record()
        except Exception:  # noqa: BLE001 - the run failed with `error`: that is the one to report
            pass

    def save(self) -> None:
        """best.pt first, so that last.pt's best epoch is always on disk; then the record."""
        self.save_best()
        self.save_last()
        self.save_record()
        self.saved_at = time.perf_counter()

    def save_record(self) -> None:
        """history.json, and run.json with the epochs and best written so far."""
        s, rec = self.loop.state, self.record
        rec.save_history(s.history)
        rec.epochs_done, rec.best_metric, rec.best_epoch = len(s.history), s.best, s.best_epoch
        rec.lr_used = float(s.lr) if s.lr else None
        rec.save()

    def save_best(self) -> None:
        if self.best is not None and not self.best_written:
            atomic_save(self.best, self.record.best_file)
            self.best_written = True

    def save_last(self) -> None:
        s = self.loop.state
        ckpt = self._checkpoint(
            epoch=len(s.history),  # completed epochs, resumed ones included
            metrics=s.history[-1]["metrics"] if s.history else {},
            optimizer=s.optimizer,
            scheduler=s.scheduler,
            extra={
                "phase": s.phase,
                "lr_used": float(s.lr),
                "best_metric": s.best,
                "best_epoch": s.best_epoch,
            },
        )
        atomic_save(ckpt, self.record.last_file)

    def _checkpoint(self, *, epoch: int, metrics: dict, extra: dict | None = None, **opt) -> dict:
        return make_checkpoint(
            bundle=self.loop.run.bundle,
            spec=self.loop.run.spec,
            config=self.loop.config,
            epoch=epoch,
            metrics=metrics,
            history=self.loop.state.history,
            extra={"run_id": self.record.run_id, **(extra or {})},
            **opt,
        )


class ModelInUse(Writer):
    """When a run finishes: evaluate its best model on every validation image (the plain
    model, on rank 0 alone), then let it replace the model in use only if it does better
    (engine.training.runs)."""

    def __init__(self, loop: Trainer, checkpoints: Checkpoints):
        super().__init__(loop)
        self.checkpoints = checkpoints

    def on_fit_end(self, event: FitEnd) -> None:
        if event.cancelled or event.best_epoch < 0:
            return
        loop, run, spec = self.loop, self.loop.run, self.loop.run.spec
        # this session's best is in memory; a resumed run's may be an earlier session's file
        best = self.checkpoints.best or load_checkpoint(self.record.best_file)
        norm = target_norm(spec, spec.target_mean, spec.target_std)
        load_model_state(run.bundle, best["model_state"], *norm)
        threshold = loop.config.multilabel_threshold
        try:
            result = evaluate_valid(run.learner, spec, run.eval_loader, threshold=threshold)
            self.record.final_metrics = result[0].metrics
            self.record.promoted = settle_model_in_use(
                loop.project,
                self.record,
                result,
                spec=spec,
                config=loop.config,
                device=run.device,
                control=run.learner.control,
            )
        except Cancelled:  # stopped during this last check: the model in use stays
            self.record.promoted = False


class RunRecorder(Writer):
    """run.json's status: running, then finished, stopped or failed (`Checkpoints` writes the
    figures as the run goes)."""

    def on_fit_start(self, event: FitStart) -> None:
        self.record.status, self.record.ended, self.record.error = "running", "", ""
        self.record.metric = self.loop.state.monitor
        self.record.save()

    def on_fit_end(self, event: FitEnd) -> None:
        self.record.status = "stopped" if event.cancelled else "finished"
        self.record.ended = now()
        self.record.save()

    def on_exception(self, error: BaseException) -> None:
        self.record.status, self.record.error, self.record.ended = "failed", str(error), now()
        self.record.save()


class FaultExit(Callback):
    """Test hook (TOPDOWN_FAULT_EXIT=RANK:EPOCH): that rank dies at the end of that (0-based)
    epoch, to check how the other processes cope."""

    def __init__(self, loop: Trainer, fault: str):
        self.loop = loop
        self.rank, self.epoch = (int(v) for v in fault.split(":"))

    def on_epoch_end(self, event: EpochEnd) -> None:
        if (self.loop.strategy.rank, event.epoch) == (self.rank, self.epoch):
            os._exit(3)


def run_callbacks(loop: Trainer, callbacks) -> list:
    """The callbacks of one run, in the order they must see each event: the side jobs, then
    the caller's `callbacks`. The same on every process."""
    checkpoints = Checkpoints(loop)
    fault = os.environ.get(FAULT_ENV, "")
    return [
        History(loop),
        EarlyStopping(loop),
        checkpoints,
        ModelInUse(loop, checkpoints),
        RunRecorder(loop),
        *([FaultExit(loop, fault)] if fault else []),
        ToCaller(callbacks, loop.strategy),
    ]

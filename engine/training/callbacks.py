"""The side jobs of a training run, as callbacks on the plain-value events the GUI gets.

Modelled on fastai's Recorder / SaveModelCallback / EarlyStoppingCallback and Lightning's
ModelCheckpoint / EarlyStopping: each does one job, reading the shared
`engine.training.fit.FitState`. `run_callbacks` lists them in the order they must run; they run
before the caller's callbacks, so a checkpoint is on disk before the GUI hears of its epoch.
Files go to the run's own folder (engine.training.runs); only `ModelInUse` touches the model
in use, when a run finishes.
"""

from __future__ import annotations

from dataclasses import asdict

from engine.config import TrainConfig
from engine.control import Cancelled
from engine.events import Callback, EpochEnd, FitEnd, FitStart
from engine.models.checkpoint import atomic_save, load_checkpoint, load_model_state, make_checkpoint
from engine.training.eval_run import evaluate_valid
from engine.training.fit import FitState
from engine.training.runs import RunRecord, now, settle_model_in_use
from engine.training.setup import Run, target_norm


class History(Callback):
    """Keeps every epoch's figures (FitState.history) and writes the run's history.json."""

    def __init__(self, state: FitState, record: RunRecord):
        self.state, self.record = state, record

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.state.history.append(asdict(event))
        self.record.save_history(self.state.history)


class EarlyStopping(Callback):
    """Stops after `patience` epochs without a new best (never during the frozen phase)."""

    def __init__(self, state: FitState, patience: int):
        self.state, self.patience, self.bad_epochs = state, int(patience), 0

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.bad_epochs = 0 if event.is_best else self.bad_epochs + 1
        if self.patience > 0 and self.bad_epochs >= self.patience and not event.frozen:
            self.state.should_stop = True


class Checkpoints(Callback):
    """best.pt at each new best epoch; last.pt (with optimizer and schedule, for resume) after
    every epoch and when the run is stopped."""

    def __init__(self, run: Run, state: FitState, config: TrainConfig, record: RunRecord):
        self.run, self.state, self.config, self.record = run, state, config, record

    def on_epoch_end(self, event: EpochEnd) -> None:
        if event.is_best:
            ckpt = self._checkpoint(epoch=event.epoch + 1, metrics=event.metrics)
            atomic_save(ckpt, self.record.best_file)
        self.save_last()

    def on_fit_end(self, event: FitEnd) -> None:
        if event.cancelled:
            self.save_last()  # the interrupted epoch's progress, for resume

    def save_last(self) -> None:
        s = self.state
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
            bundle=self.run.bundle,
            spec=self.run.spec,
            config=self.config,
            epoch=epoch,
            metrics=metrics,
            history=self.state.history,
            extra={"run_id": self.record.run_id, **(extra or {})},
            **opt,
        )


class ModelInUse(Callback):
    """When a run finishes: evaluate its best model on the validation images, then let it
    replace the model in use only if it does better (engine.training.runs)."""

    def __init__(self, project, run: Run, config: TrainConfig, record: RunRecord):
        self.project, self.run, self.config, self.record = project, run, config, record

    def on_fit_end(self, event: FitEnd) -> None:
        if event.cancelled or event.best_epoch < 0:
            return
        run, spec = self.run, self.run.spec
        best = load_checkpoint(self.record.best_file)
        norm = target_norm(spec, spec.target_mean, spec.target_std)
        load_model_state(run.bundle, best["model_state"], *norm)
        threshold = self.config.multilabel_threshold
        try:
            result = evaluate_valid(run.learner, spec, run.valid_loader, threshold=threshold)
            self.record.final_metrics = result[0].metrics
            self.record.promoted = settle_model_in_use(
                self.project,
                self.record,
                result,
                spec=spec,
                config=self.config,
                device=run.device,
                control=run.learner.control,
            )
        except Cancelled:  # stopped during this last check: the model in use stays
            self.record.promoted = False


class RunRecorder(Callback):
    """Keeps run.json current: running, then finished, stopped or failed, with the figures."""

    def __init__(self, state: FitState, record: RunRecord):
        self.state, self.record = state, record

    def on_fit_start(self, event: FitStart) -> None:
        self.record.status, self.record.ended, self.record.error = "running", "", ""
        self.record.metric = self.state.monitor
        self.record.save()

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.record.epochs_done = len(self.state.history)
        self.record.best_metric, self.record.best_epoch = self.state.best, self.state.best_epoch
        self.record.save()

    def on_fit_end(self, event: FitEnd) -> None:
        self.record.status = "stopped" if event.cancelled else "finished"
        self.record.ended = now()
        self.record.save()

    def on_exception(self, error: BaseException) -> None:
        self.record.status, self.record.error, self.record.ended = "failed", str(error), now()
        self.record.save()


def run_callbacks(project, run: Run, state: FitState, config: TrainConfig, record: RunRecord):
    """The internal callbacks of one run, in the order they must see each event."""
    return [
        History(state, record),
        EarlyStopping(state, config.early_stopping_patience),
        Checkpoints(run, state, config, record),
        ModelInUse(project, run, config, record),
        RunRecorder(state, record),
    ]

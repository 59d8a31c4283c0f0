"""The training loop, top-down on one screen (`Loop.fit`): resume, learning rate, phases (the
head with the body frozen, then the whole network: engine.training.recipe), epochs, batches
(`Loop.train_epoch`), FitEnd. Modelled on fastai's `Learner.fit` and the `main` of torchvision's
reference classification train.py.

From `train()` to the batch loop is two hops over two files: engine.training.train.train ->
`Loop.fit` -> `Loop.train_epoch` (its `for` over the batches calls `Learner.train_step`).

Wherever processes must agree the loop asks its strategy (engine.training.strategy: one
process, or DDP under torchrun): the model it trains (`wrap`), a stop (`check` at every batch,
`agree` on early stopping), the mean train loss, the validation figures of all processes, the
LR finder's rate, and how an error of a lost process reads. Everything else a run does around
the epochs (history, early stopping, best / last checkpoints, the final evaluation, the run's
record, the caller's events) is a callback on the same events (engine.training.callbacks), the
same on every process, reading the loop and its `FitState`. Continuing an unfinished run is
engine.training.resume.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import replace
from functools import partial

import torch

from engine.config import TrainConfig
from engine.control import Cancelled, RunControl
from engine.devices import device_label
from engine.errors import DivergedError, TrainingError
from engine.events import BatchEnd, EpochEnd, FitEnd, FitStart, emit
from engine.training import lr_find, recipe, runs
from engine.training.callbacks import run_callbacks
from engine.training.metrics import METRIC_NAMES, is_better, one_class_warning
from engine.training.resume import Resume
from engine.training.setup import build_run
from engine.training.state import FitState
from engine.training.strategy import Strategy, from_environment


class Loop:
    """One training run of a project: built from its settings (`Resume` may give a run to
    continue), then `fit()`. `callbacks` are the caller's; they hear every event last."""

    def __init__(
        self,
        project,
        config: TrainConfig,
        callbacks=(),
        control: RunControl | None = None,
        *,
        resume: Resume | None = None,
        strategy: Strategy | None = None,
    ):
        self.project, self.resume = project, resume or Resume()
        self.strategy = strategy or from_environment()
        self.control = control or RunControl()
        self.config = self.resume.config(config)
        self.record: runs.RunRecord | None = None  # the run's folder, from the fit's start on
        self.callbacks = run_callbacks(self, callbacks)
        if self.strategy.is_main:
            project.save_settings(self.config.to_dict())
        self.run = build_run(project, self.config, self.callbacks, self.control, self.strategy)
        self.learner = self.run.learner
        frozen, total = recipe.split_epochs(
            self.config.epochs, self.config.freeze_epochs, self.run.bundle.pretrained
        )
        self.state = FitState(
            task=self.run.spec.task,
            lr=self.config.lr,
            freeze_epochs=frozen,
            total_epochs=total,
            steps_per_epoch=len(self.run.train_loader),
        )

    def fit(self) -> FitEnd:
        """Resume, choose the rate, then train the phases' epochs; a stop (Cancelled, Ctrl-C)
        ends the run as stopped, its progress saved for resume."""
        s, state = self.strategy, self.state
        with self.failures():
            try:
                self.resume.restore(self.run, state)  # a resumed run: weights, epochs, best, rate
                if state.lr is None:  # "auto": the finder's (cached) rate; under torchrun rank 0's
                    state.lr = s.broadcast_float(self.find_lr)
                self.record = self.resume.record or self.new_record()
                emit(self.callbacks, self.fit_start())
                state.t_start = time.perf_counter()
                for phase in recipe.phases(state.lr, state.freeze_epochs, state.total_epochs):
                    epochs = range(max(phase.epochs.start, state.start_epoch), phase.epochs.stop)
                    if not epochs or state.should_stop:
                        continue
                    optimizer, scheduler = self.start_phase(phase, epochs)
                    for epoch in epochs:
                        t0 = time.perf_counter()
                        train_loss = self.train_epoch(epoch, phase.frozen, optimizer, scheduler)
                        emit(self.callbacks, self.validate(epoch, phase.frozen, train_loss, t0))
                        state.should_stop = s.agree(state.should_stop)  # early stopping, for all
                        if state.should_stop:
                            break
            except Cancelled:
                return self.end(cancelled=True)
            except KeyboardInterrupt:  # Ctrl-C in a terminal: saved, recorded as a stop, raised
                self.end(cancelled=True)
                raise
            return self.end(cancelled=False)

    def start_phase(self, phase: recipe.Phase, epochs: range):
        """Freeze or unfreeze the body, wrap the model (DDP), and a fresh AdamW with one cycle
        over the phase (a resumed run's state, if it stopped in this phase)."""
        bundle, state = self.run.bundle, self.state
        bundle.freeze_body() if phase.frozen else bundle.unfreeze()
        self.learner.model = self.strategy.wrap(bundle.model, self.run.device)
        state.phase = phase.name
        steps = len(phase.epochs) * state.steps_per_epoch
        wd = self.config.weight_decay
        opt, sched = make_optimizer(bundle, phase.lr, phase.frozen, wd, steps)
        self.resume.restore_optimizer(
            opt, sched, phase=phase.name, phase_start=phase.epochs.start,
            first_epoch=epochs.start, steps_per_epoch=state.steps_per_epoch,
        )  # fmt: skip
        state.optimizer, state.scheduler = opt, sched
        return opt, sched

    def train_epoch(self, epoch: int, frozen: bool, optimizer, scheduler) -> float:
        """One pass over the training images, a BatchEnd after each step; the mean loss (of
        all processes). DivergedError on a NaN / inf loss."""
        learner, loader, s, state = self.learner, self.run.train_loader, self.strategy, self.state
        sampler = getattr(loader, "sampler", None)
        if hasattr(sampler, "set_epoch"):  # DistributedSampler: this epoch's shuffle
            sampler.set_epoch(epoch)
        learner.model.train()
        learner.bn_stats.start_epoch()
        total, n, speed = 0.0, 0, 0.0
        t_last = time.perf_counter()
        step, steps_before = epoch * len(loader), state.start_epoch * state.steps_per_epoch
        total_steps = state.total_epochs * state.steps_per_epoch
        check = partial(s.check, self.control, training=True)  # pause, and an agreed stop
        for b, (x, y, _) in enumerate(learner.batches(loader, check)):
            learner.bn_stats.before_step()
            loss = learner.train_step(x, y, optimizer, scheduler)
            if not math.isfinite(loss):
                raise DivergedError(
                    f"The training loss became {loss} at epoch {epoch + 1}, batch {b + 1}: "
                    "training diverged. Use a lower learning rate (for example a tenth of "
                    f"{optimizer.param_groups[-1]['lr']:.2g}) and train again."
                )
            bs = x.shape[0]
            total, n = total + loss * bs, n + bs
            now = time.perf_counter()
            inst = bs / max(now - t_last, 1e-9)
            speed = inst if speed == 0 else 0.8 * speed + 0.2 * inst
            t_last, step = now, step + 1
            eta = (now - state.t_start) / max(step - steps_before, 1) * (total_steps - step)
            emit(self.callbacks, BatchEnd(
                epoch=epoch, batch=b, step=step - 1, total_steps=total_steps, loss=loss,
                lr=float(optimizer.param_groups[-1]["lr"]),
                images_per_s=float(speed) * s.world_size, eta_s=float(eta), frozen=frozen,
            ))  # fmt: skip
        if n == 0:
            raise TrainingError(
                "No training image could be read in this epoch; see the "
                "skipped files for the reasons."
            )
        return s.reduce_mean(total / n)

    def validate(self, epoch: int, frozen: bool, train_loss: float, t0: float) -> EpochEnd:
        """One validation pass (the figures of every process's images) and the epoch's
        EpochEnd; DivergedError on a NaN / inf figure."""
        s, state = self.strategy, self.state
        check = partial(s.check, self.control, training=False)
        m = self.learner.measure(self.run.valid_loader, check=check)
        s.gather_metrics(m, self.run.bundle.model)
        metrics = m.compute()
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
            warning=one_class_warning(state.task, m.one_class),
        )

    def find_lr(self) -> float:
        """The LR finder's (cached) suggestion for this run's first phase."""
        steps = lr_find.SWEEP_STEPS
        return lr_find.cached_find(self.project, self.config, self.run, steps).suggestion

    def new_record(self) -> runs.RunRecord | None:
        """A new run's folder (rank 0; the other processes write nothing)."""
        if not self.strategy.is_main:
            return None
        return runs.new_run(self.project, self.config, self.strategy.world_size)

    def fit_start(self) -> FitStart:
        spec, state = self.run.spec, self.state
        return FitStart(
            task=spec.task,
            arch=self.run.bundle.arch,
            device=self.strategy.device_label(device_label(self.run.device)),
            epochs=state.total_epochs,
            freeze_epochs=state.freeze_epochs,
            steps_per_epoch=state.steps_per_epoch,
            n_train=len(spec.train),
            n_valid=len(spec.valid),
            metric_names=METRIC_NAMES[spec.task],
            class_names=tuple(spec.class_names),
        )

    def end(self, *, cancelled: bool) -> FitEnd:
        """FitEnd, told to the callbacks (the model-in-use decision is taken by one of them,
        with the plain model again) and returned with that decision."""
        self.learner.model = self.run.bundle.model
        state, record = self.state, self.record
        end = FitEnd(
            epochs_done=len(state.history),
            best_epoch=state.best_epoch,
            best_metric=state.best,
            checkpoint=str(record.best_file) if record and state.best_epoch >= 0 else "",
            cancelled=cancelled,
            history=state.history,
            run_id=record.run_id if record else "",
        )
        emit(self.callbacks, end)
        return replace(end, promoted=bool(record and record.promoted))

    @contextlib.contextmanager
    def failures(self):
        """An error of the run in words a person can act on (a lost process, out of GPU
        memory), told to the callbacks (the run's record says failed), then raised."""
        try:
            yield
        except Exception as err:
            error, cfg = self.strategy.explain(err), self.config
            if isinstance(error, torch.OutOfMemoryError):
                error = TrainingError(
                    f"Out of GPU memory at batch size {cfg.batch_size} and image size "
                    f"{cfg.image_size}. Use a smaller batch size (for example "
                    f"{max(1, cfg.batch_size // 2)}) or smaller images."
                )
            emit(self.callbacks, error)
            if error is err:
                raise
            raise error from (None if isinstance(err, torch.OutOfMemoryError) else err)


def make_optimizer(bundle, lr: float, frozen: bool, wd: float, steps: int):
    """AdamW over parameter groups (no weight decay on biases / norms) + one-cycle; the group
    rates and the cycle's shape come from engine.training.recipe (pretrained or from scratch)."""
    groups = bundle.param_groups()
    if frozen:
        groups = groups[-1:]
    lrs = recipe.group_lrs(lr, len(groups), frozen=frozen, pretrained=bundle.pretrained)
    shape = recipe.schedule(frozen=frozen, pretrained=bundle.pretrained)
    pg, max_lrs = [], []
    for params, glr in zip(groups, lrs, strict=True):
        decay = [p for p in params if p.ndim > 1]
        no_decay = [p for p in params if p.ndim <= 1]
        for ps, w in ((decay, wd), (no_decay, 0.0)):
            if ps:
                pg.append({"params": ps, "weight_decay": w})
                max_lrs.append(glr)
    opt = torch.optim.AdamW(pg, lr=lr, betas=(0.9, 0.99), eps=1e-5)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt,
        max_lr=max_lrs,
        total_steps=max(steps, 1),
        pct_start=shape.pct_start,
        div_factor=shape.div_factor,
        final_div_factor=shape.final_div_factor,
        base_momentum=0.85,
        max_momentum=0.95,
    )
    return opt, sched


def _finite(v) -> bool:
    return v == v and v not in (float("inf"), float("-inf"))

"""Training entry points: `train` (fastai's fine_tune recipe) and `lr_find`.

The phases and per-group rates come from engine.training.recipe: with a pretrained body,
`freeze_epochs` of the `epochs` train the head alone, the rest unfrozen with discriminative rates
(lr/100 .. lr); from scratch, every epoch unfrozen at one rate. One-cycle schedule, AdamW.
`config.lr=None` takes the LR finder's suggestion (cached in the project; see lr_find.py).
Each run writes its own folder, PROJECT/models/runs/<run-id>/; the
model in use (models/best.pt) changes only when a run finishes better (engine.training.runs).

The pieces: engine.training.setup builds the run, engine.training.fit runs the epochs,
engine.training.callbacks does the side jobs (checkpoints, history, early stopping, the final
evaluation, the run's record).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import torch

from engine.config import TrainConfig
from engine.control import Cancelled, RunControl
from engine.devices import device_label
from engine.errors import TrainingError
from engine.events import FitEnd, FitStart, LRFinderResult
from engine.models.checkpoint import load_checkpoint
from engine.project import sweep as project_sweep
from engine.project.locks import project_lock
from engine.training import distributed, recipe, runs
from engine.training import distributed_callbacks as dist_callbacks
from engine.training.callbacks import run_callbacks
from engine.training.fit import FitState, fit_epochs, restore_optimizer, resume_state
from engine.training.learner import emit
from engine.training.metrics import METRIC_NAMES
from engine.training.setup import Run, build_run

__all__ = ["train", "lr_find", "fine_tune"]
LR_FIND_ITERS = None  # steps of the LR sweep; None: lr_find.finder_steps (bounded in time too)


def _find(run: Run, freeze: bool, num_it: int | None) -> LRFinderResult:
    from engine.training.lr_find import run_lr_find

    if freeze:
        run.bundle.freeze_body()
    else:
        run.bundle.unfreeze()
    try:
        return run_lr_find(run.learner, run.train_loader, num_it=num_it)
    finally:
        run.bundle.unfreeze()


def _cached_find(project, config: TrainConfig, run: Run, num_it, use_cache: bool):
    """The finder's result for these settings: from PROJECT/models/lr_find.json, or a new sweep."""
    from engine.training import lr_find as lf
    from engine.training.recipe import finder_frozen

    frozen = finder_frozen(config.freeze_epochs, run.bundle.pretrained)
    key = lf.cache_key(config, run.spec, frozen)
    hit = lf.load_cached(project, key) if use_cache else None
    if hit is not None:
        return hit
    res = _find(run, frozen, num_it)
    lf.save_cached(project, key, res)
    return res


def lr_find(
    project,
    config: TrainConfig,
    callbacks=(),
    control: RunControl | None = None,
    num_it: int | None = None,
    use_cache: bool = True,
) -> LRFinderResult:
    """Loss against learning rate, and a suggested rate; the model is left untouched.

    A result for the same settings and data is read back from the project instead of sweeping
    again (use_cache=False forces a new sweep). A read-only project is refused before the
    sweep, since its result could not be kept."""
    project.check_writable()
    config = TrainConfig.from_dict(config.to_dict())
    run = build_run(project, config, callbacks, control or RunControl())
    return _cached_find(project, config, run, num_it or LR_FIND_ITERS, use_cache)


def _optimizer(bundle, lr: float, frozen: bool, wd: float, steps: int):
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


def fine_tune(run: Run, state: FitState, callbacks, *, record: runs.RunRecord) -> FitEnd:
    """fastai's fine_tune: one cycle on the head with the body frozen, then one cycle on the
    whole network at half that peak rate (a resumed run skips the epochs it did)."""
    fe, lr = state.freeze_epochs, state.lr
    emit(callbacks, "on_fit_start", _fit_start(run, state))
    state.t_start = time.perf_counter()
    try:
        fit_one_cycle(run, state, callbacks, epochs=range(0, fe), lr=lr, frozen=True)
        later_lr = recipe.phase_lr(lr, False, fe)
        fit_one_cycle(
            run, state, callbacks, epochs=range(fe, state.total_epochs), lr=later_lr, frozen=False
        )
    except Cancelled:
        return _fit_end(state, callbacks, cancelled=True, record=record)
    except KeyboardInterrupt:  # Ctrl-C in a terminal: saved and recorded as a stop, then raised
        _fit_end(state, callbacks, cancelled=True, record=record)
        raise
    return _fit_end(state, callbacks, cancelled=False, record=record)


def fit_one_cycle(run: Run, state: FitState, callbacks, *, epochs: range, lr: float, frozen: bool):
    """One phase: a fresh AdamW with a one-cycle schedule spanning `epochs`."""
    todo = range(max(epochs.start, state.start_epoch), epochs.stop)
    if not todo or state.should_stop:
        return
    run.bundle.freeze_body() if frozen else run.bundle.unfreeze()
    distributed.wrap(run)  # under torchrun: DDP over the parameters this phase trains
    state.phase = "frozen" if frozen else "unfrozen"
    wd, steps = run.learner.config.weight_decay, len(epochs) * state.steps_per_epoch
    state.optimizer, state.scheduler = _optimizer(run.bundle, lr, frozen, wd, steps)
    restore_optimizer(state, phase_start=epochs.start, first_epoch=todo.start)
    fit_epochs(run, state, callbacks, epochs=todo, frozen=frozen)


def _fit_start(run: Run, state: FitState) -> FitStart:
    spec = run.spec
    return FitStart(
        task=spec.task,
        arch=run.bundle.arch,
        device=device_label(run.device),
        epochs=state.total_epochs,
        freeze_epochs=state.freeze_epochs,
        steps_per_epoch=state.steps_per_epoch,
        n_train=len(spec.train),
        n_valid=len(spec.valid),
        metric_names=METRIC_NAMES[spec.task],
        class_names=tuple(spec.class_names),
    )


def _fit_end(
    state: FitState, callbacks, *, cancelled: bool, record: runs.RunRecord | None
) -> FitEnd:
    end = FitEnd(
        epochs_done=len(state.history),
        best_epoch=state.best_epoch,
        best_metric=state.best,
        checkpoint=str(record.best_file) if record and state.best_epoch >= 0 else "",
        cancelled=cancelled,
        history=state.history,
        run_id=record.run_id if record else "",
    )
    emit(callbacks, "on_fit_end", end)  # the model-in-use decision is taken by a callback here
    return replace(end, promoted=bool(record and record.promoted))


def train(
    project,
    config: TrainConfig,
    callbacks=(),
    control: RunControl | None = None,
    resume: bool = False,
) -> FitEnd:
    """Fine-tune a network on the project (see the module docstring); `resume` continues the
    latest run that did not finish, with that run's settings. One training per project at a
    time: a second one, from any process, raises TrainingError naming the first."""
    if getattr(project, "read_only", False):
        raise TrainingError(
            f"Cannot train: {project.path} is read-only; copy it to a writable folder."
        )
    lock = project_lock(project.path, "training", error=TrainingError)
    with distributed.main_lock(lock):  # under torchrun, rank 0 holds it for all
        return _locked_train(project, config, callbacks, control, resume)


def _locked_train(project, config: TrainConfig, callbacks, control, resume: bool) -> FitEnd:
    control = control or RunControl()
    callbacks = dist_callbacks.user_callbacks(list(callbacks))  # rank 0's only, under torchrun
    record, resume_ck = None, None
    if distributed.is_main():  # what a killed run left: its temporary files, "running" status
        project_sweep.sweep_temps(Path(project.path) / "models", deep=True)
        project_sweep.mark_interrupted(project.path, locked=True)
    if resume:
        record = runs.resumable_run(project)
        resume_ck = _read_last(record)
        distributed.check_resume(resume_ck, str(record.last_file))
        keep = {
            k: getattr(config, k) for k in ("device", "num_workers", "leave_one_core", "cache_mb")
        }
        config = TrainConfig.from_dict({**resume_ck["config"], **keep})
    else:
        config = TrainConfig.from_dict(config.to_dict())
    if distributed.is_main():
        project.save_settings(config.to_dict())
    run = build_run(project, config, callbacks, control)
    distributed.attach(run, control)
    frozen, total = recipe.split_epochs(config.epochs, config.freeze_epochs, run.bundle.pretrained)
    state = FitState(
        task=run.spec.task,
        lr=config.lr,
        freeze_epochs=frozen,
        total_epochs=total,
        steps_per_epoch=len(run.train_loader),
    )
    try:
        return _train(project, config, run, state, record, resume_ck)
    except Cancelled:  # before the first epoch (LR finder): nothing trained, nothing to save
        return _fit_end(state, run.learner.callbacks, cancelled=True, record=None)
    except Exception as err:
        e = distributed.explain(err)  # a lost peer process, in words
        if isinstance(e, torch.OutOfMemoryError):
            e = TrainingError(
                f"Out of GPU memory at batch size {config.batch_size} and image size "
                f"{config.image_size}. Use a smaller batch size (for example "
                f"{max(1, config.batch_size // 2)}) or smaller images."
            )
            emit(run.learner.callbacks, "on_exception", e)
            raise e from None
        emit(run.learner.callbacks, "on_exception", e)
        if e is err:
            raise
        raise e from err


def _train(project, config: TrainConfig, run: Run, state: FitState, record, resume_ck) -> FitEnd:
    if resume_ck is not None:
        resume_state(run, state, resume_ck, where=str(record.last_file))
    if state.lr is None:  # "auto": the finder's (cached) suggestion; under torchrun, rank 0's
        state.lr = distributed.broadcast_float(
            lambda: _cached_find(project, config, run, LR_FIND_ITERS, True).suggestion
        )
    if record is None and distributed.is_main():
        record = runs.new_run(project, config)
    internal = run_callbacks(project, run, state, config, record) if record else []
    internal = dist_callbacks.run_callbacks(internal, state, run, config)
    run.learner.callbacks = [*internal, *run.learner.callbacks]
    return fine_tune(run, state, run.learner.callbacks, record=record)


def _read_last(record: runs.RunRecord) -> dict:
    try:
        return load_checkpoint(record.last_file)
    except Exception as e:
        raise TrainingError(f"{record.last_file} cannot be read ({e}); start a new run.") from e

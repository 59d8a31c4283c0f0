"""Training entry points: `train` (fastai's fine_tune recipe) and `lr_find`.

fine_tune: `freeze_epochs` epochs with the pretrained body frozen (one-cycle on the head; no
backward pass through the body), then `epochs` epochs unfrozen with discriminative learning rates
(lr/100 .. lr across the model's parameter groups), one-cycle schedule, AdamW. `config.lr=None`
runs the LR finder first. Checkpoints, history and the evaluation go to PROJECT/models/.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from engine.config import TrainConfig
from engine.control import Cancelled, RunControl
from engine.events import FitEnd, LRFinderResult
from engine.training.data import TrainingError
from engine.training.fit import fit
from engine.training.learner import DivergedError, Learner, device_tools, emit

__all__ = ["train", "lr_find", "TrainingError", "DivergedError"]
LR_FIND_ITERS = 100  # steps of the LR sweep run when config.lr is None


@dataclass
class _Run:
    spec: object
    bundle: object
    learner: Learner
    train_loader: object
    valid_loader: object
    device: object


def _setup(project, config: TrainConfig, callbacks, control) -> _Run:
    import numpy as np
    import torch

    from engine.models import registry as models
    from engine.training import balance
    from engine.training.augment import BatchPrep
    from engine.training.data import ImageDataset, make_loader, prepare_data
    from engine.training.metrics import Metrics

    spec = prepare_data(project, config)
    pick_device, _, set_threads = device_tools()
    device = torch.device(pick_device(config.device))
    if device.type == "cpu":
        set_threads(config.leave_one_core)
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: pick the fastest kernels
    random.seed(config.seed)
    np.random.seed(config.seed % 2**32)
    torch.manual_seed(config.seed)
    try:
        bundle = models.build_model(
            config.arch,
            spec.task,
            spec.n_outputs,
            config.weights,
            on_download=lambda ev: emit(callbacks, "on_download", ev),
        )
    except ValueError as e:
        from engine.models.weights import WeightsError

        if isinstance(e, WeightsError):
            raise
        raise TrainingError(str(e)) from e
    channels_last = bool(config.channels_last)
    bundle.model.to(device)
    if channels_last:
        bundle.model.to(memory_format=torch.channels_last)
    pin = device.type == "cuda"
    train_ds = ImageDataset(spec, "train", config.image_size, config, train=True)
    valid_ds = ImageDataset(spec, "valid", config.image_size, config, train=False)
    sampler = balance.train_sampler(spec, config)
    train_dl = make_loader(train_ds, config.batch_size, True, config, pin, sampler=sampler)
    valid_dl = make_loader(valid_ds, config.batch_size, False, config, pin)
    prep = BatchPrep(
        device,
        bundle.mean,
        bundle.std,
        channels_last,
        size=config.image_size,
        crop=config.resized_crop,
        flip=config.flip,
        rotate=config.rotate,
        color=config.color_jitter,
    )
    names = spec.targets if spec.task == "regression" else spec.class_names
    reg = spec.task == "regression"

    def metrics_factory():
        return Metrics(
            spec.task,
            names,
            config.multilabel_threshold,
            spec.target_mean if reg else None,
            spec.target_std if reg else None,
        )

    learner = Learner(
        bundle,
        spec,
        config,
        device,
        prep,
        balance.make_loss(spec, config),
        metrics_factory,
        callbacks,
        control,
        project,
    )
    return _Run(spec, bundle, learner, train_dl, valid_dl, device)


def _find(run: _Run, freeze: bool, num_it: int) -> LRFinderResult:
    from engine.training.lr_find import run_lr_find

    if freeze:
        run.bundle.freeze_body()
    else:
        run.bundle.unfreeze()
    try:
        return run_lr_find(run.learner, run.train_loader, num_it=num_it)
    finally:
        run.bundle.unfreeze()


def lr_find(
    project,
    config: TrainConfig,
    callbacks=(),
    control: RunControl | None = None,
    num_it: int | None = None,
) -> LRFinderResult:
    """Loss against learning rate, and a suggested rate; the model is left untouched."""
    config = TrainConfig.from_dict(config.to_dict())
    run = _setup(project, config, callbacks, control or RunControl())
    return _find(run, config.freeze_epochs > 0, num_it or LR_FIND_ITERS)


def _optimizer(bundle, lr: float, frozen: bool, wd: float, steps: int):
    """AdamW over parameter groups (no weight decay on biases / norms) + one-cycle."""
    import torch

    groups = bundle.param_groups()
    if frozen:
        groups, lrs = groups[-1:], [lr]
    else:
        n = len(groups)
        lrs = [lr / 100 * 100 ** (i / max(n - 1, 1)) for i in range(n)]
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
        pct_start=0.99 if frozen else 0.3,
        div_factor=25.0 if frozen else 5.0,
        final_div_factor=1e5,
        base_momentum=0.85,
        max_momentum=0.95,
    )
    return opt, sched


def train(
    project,
    config: TrainConfig,
    callbacks=(),
    control: RunControl | None = None,
    resume: bool = False,
) -> FitEnd:
    """Fine-tune a pretrained network on the project; see the module docstring."""
    from engine.training import checkpoint as ck

    control = control or RunControl()
    callbacks = list(callbacks)
    resume_ck = None
    if resume:
        last = ck.models_dir(project) / ck.LAST
        if not last.is_file():
            raise TrainingError(f"There is no interrupted run to resume ({last} is missing).")
        try:
            resume_ck = ck.load_checkpoint(last)
        except Exception as e:
            raise TrainingError(f"{last} cannot be read ({e}); start a new run.") from e
        keep = {
            k: getattr(config, k) for k in ("device", "num_workers", "leave_one_core", "cache_mb")
        }
        config = TrainConfig.from_dict({**resume_ck["config"], **keep})
    else:
        config = TrainConfig.from_dict(config.to_dict())
    project.save_settings(config.to_dict())
    run = _setup(project, config, callbacks, control)
    try:
        return fit(project, config, run, callbacks, control, resume_ck)
    except Cancelled:  # before the first epoch (LR finder): nothing trained, nothing to save
        end = FitEnd(0, -1, None, "", True, [])
        emit(callbacks, "on_fit_end", end)
        return end
    except TrainingError as e:
        emit(callbacks, "on_exception", e)
        raise
    except Exception as e:
        import torch

        if isinstance(e, torch.OutOfMemoryError):
            e = TrainingError(
                f"Out of GPU memory at batch size {config.batch_size} and image size "
                f"{config.image_size}. Use a smaller batch size (for example "
                f"{max(1, config.batch_size // 2)}) or smaller images."
            )
            emit(callbacks, "on_exception", e)
            raise e from None
        emit(callbacks, "on_exception", e)
        raise

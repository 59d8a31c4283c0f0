"""Training entry points: `train` (fastai's fine_tune recipe) and `lr_find`.

fine_tune: `freeze_epochs` epochs with the pretrained body frozen (one-cycle on the head; no
backward pass through the body), then `epochs` epochs unfrozen with discriminative learning rates
(lr/100 .. lr across the model's parameter groups), one-cycle schedule, AdamW. `config.lr=None`
runs the LR finder first. Checkpoints, history and the evaluation go to PROJECT/models/.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from engine.config import TrainConfig
from engine.control import Cancelled, RunControl
from engine.data import TrainingError
from engine.events import EpochEnd, FitEnd, FitStart, LRFinderResult
from engine.learner import DivergedError, Learner, device_tools, emit

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

    from engine import models
    from engine.augment import BatchPrep
    from engine.data import ImageDataset, make_loader, prepare_data
    from engine.metrics import Metrics, make_loss

    spec = prepare_data(project, config)
    pick_device, _, set_threads = device_tools()
    device = torch.device(pick_device(config.device))
    if device.type == "cpu":
        set_threads(config.leave_one_core)
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
        from engine.weights import WeightsError

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
    train_dl = make_loader(train_ds, config.batch_size, True, config, pin)
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
        make_loss(spec.task, config.label_smoothing),
        metrics_factory,
        callbacks,
        control,
        project,
    )
    return _Run(spec, bundle, learner, train_dl, valid_dl, device)


def _find(run: _Run, freeze: bool, num_it: int) -> LRFinderResult:
    from engine.lr_find import run_lr_find

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
    from engine import checkpoint as ck

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
        return _fit(project, config, run, callbacks, control, resume_ck)
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


def _fit(project, config, run: _Run, callbacks, control, resume_ck) -> FitEnd:
    from engine import checkpoint as ck
    from engine.eval_run import evaluate_valid
    from engine.metrics import MAIN_METRIC, METRIC_NAMES, is_better

    spec, bundle, learner = run.spec, run.bundle, run.learner
    folder = ck.models_dir(project)
    fe, total = int(config.freeze_epochs), int(config.freeze_epochs + config.epochs)
    steps = len(run.train_loader)
    history, start, best, best_epoch, lr = [], 0, None, -1, config.lr
    if resume_ck is not None:
        start = int(resume_ck["epoch"])
        history = list(resume_ck.get("history", []))
        best, best_epoch = resume_ck.get("best_metric"), int(resume_ck.get("best_epoch", -1))
        lr = float(resume_ck["lr_used"])
        if list(resume_ck.get("class_names", [])) != list(spec.class_names) or (
            resume_ck.get("n_outputs") != spec.n_outputs
        ):
            raise TrainingError(
                "The project's classes changed since the interrupted run; start a new run."
            )
        ck.load_model_state(
            bundle,
            resume_ck["model_state"],
            *_norm(spec, resume_ck.get("target_mean"), resume_ck.get("target_std")),
        )
        if start >= total:
            raise TrainingError(
                f"The run in {folder / ck.LAST} already finished all {total} "
                "epochs; start a new run instead of resuming."
            )
    if lr is None:
        lr = _find(run, fe > 0, LR_FIND_ITERS).suggestion
    emit(
        callbacks,
        "on_fit_start",
        FitStart(
            task=spec.task,
            arch=config.arch,
            device=_describe(run.device),
            epochs=total,
            freeze_epochs=fe,
            steps_per_epoch=steps,
            n_train=len(spec.train),
            n_valid=len(spec.valid),
            metric_names=METRIC_NAMES[spec.task],
            class_names=tuple(spec.class_names),
        ),
    )
    main_name = MAIN_METRIC[spec.task][0]
    opt = sched = phase = None
    epoch, t_start, bad_epochs = start, time.perf_counter(), 0
    reg = spec.task == "regression"

    def save_last(done: int):
        ckpt = ck.make_checkpoint(
            bundle,
            spec,
            config,
            done,
            history[-1]["metrics"] if history else {},
            history,
            opt,
            sched,
            extra={
                "phase": phase,
                "lr_used": float(lr),
                "best_metric": best,
                "best_epoch": best_epoch,
            },
        )
        ck.atomic_save(ckpt, folder / ck.LAST)

    try:
        for epoch in range(start, total):
            frozen = epoch < fe
            if phase != ("frozen" if frozen else "unfrozen"):
                phase = "frozen" if frozen else "unfrozen"
                bundle.freeze_body() if frozen else bundle.unfreeze()
                n_ep = fe if frozen else total - fe
                base_lr = lr if frozen else (lr / 2 if fe > 0 else lr)
                opt, sched = _optimizer(bundle, base_lr, frozen, config.weight_decay, n_ep * steps)
                if resume_ck is not None and resume_ck.get("phase") == phase:
                    opt.load_state_dict(resume_ck["optimizer_state"])
                    sched.load_state_dict(resume_ck["scheduler_state"])
                    sched.last_epoch = (epoch - (0 if frozen else fe)) * steps
            t0 = time.perf_counter()
            tl = learner.train_epoch(
                run.train_loader,
                epoch,
                opt,
                sched,
                epoch * steps,
                total * steps,
                frozen,
                t_start,
                start * steps,
            )
            vm = learner.validate(run.valid_loader)
            vl = vm.pop("loss")
            if not all(map(_finite, [vl, *vm.values()])):
                raise DivergedError(
                    f"The validation loss became {vl} at epoch {epoch + 1}. "
                    "Use a lower learning rate and train again."
                )
            improved = is_better(spec.task, vm.get(main_name), best)
            if improved:
                best, best_epoch, bad_epochs = vm[main_name], epoch, 0
            else:
                bad_epochs += 1
            rec = {
                "epoch": epoch,
                "train_loss": tl,
                "valid_loss": vl,
                "metrics": vm,
                "frozen": frozen,
                "seconds": time.perf_counter() - t0,
                "is_best": improved,
            }
            history.append(rec)
            if improved:
                ck.atomic_save(
                    ck.make_checkpoint(bundle, spec, config, epoch + 1, vm, history),
                    folder / ck.BEST,
                )
            save_last(epoch + 1)
            ck.save_history(project, history)
            emit(callbacks, "on_epoch_end", EpochEnd(**rec))
            patience = int(config.early_stopping_patience)
            if patience > 0 and bad_epochs >= patience and not frozen:
                epoch += 1
                break
        else:
            epoch = total
    except Cancelled:
        done = len(history)  # completed epochs, resumed ones included
        save_last(done)
        end = FitEnd(
            done, best_epoch, best, str(folder / ck.BEST) if best_epoch >= 0 else "", True, history
        )
        emit(callbacks, "on_fit_end", end)
        return end
    if best_epoch >= 0:
        best_ck = ck.load_checkpoint(folder / ck.BEST)
        ck.load_model_state(
            bundle,
            best_ck["model_state"],
            *_norm(spec, spec.target_mean if reg else None, spec.target_std),
        )
        evaluate_valid(learner, spec, run.valid_loader, config.multilabel_threshold, folder)
    end = FitEnd(
        epoch, best_epoch, best, str(folder / ck.BEST) if best_epoch >= 0 else "", False, history
    )
    emit(callbacks, "on_fit_end", end)
    return end


def _norm(spec, mean, std):
    if spec.task != "regression" or mean is None:
        return None, None
    return mean, std


def _finite(v) -> bool:
    return v == v and v not in (float("inf"), float("-inf"))


def _describe(device) -> str:
    if device.type == "cuda":
        import torch

        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)

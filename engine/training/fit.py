"""The epoch loop of `engine.training.train.train`:
phases (frozen, then unfrozen), per-epoch validation,
best / last checkpoints, history, early stopping, cancel with a saved last.pt, resume, and the
final evaluation of the best model on the validation split."""

from __future__ import annotations

import time

from engine.control import Cancelled
from engine.events import EpochEnd, FitEnd, FitStart
from engine.training.data import TrainingError
from engine.training.learner import DivergedError, emit


def fit(project, config, run, callbacks, control, resume_ck) -> FitEnd:
    """Run the epochs of `run` (see engine.training.train._setup); returns the FitEnd it reports."""
    from engine.training import checkpoint as ck
    from engine.training import recipe
    from engine.training import train as tr
    from engine.training.eval_run import evaluate_valid
    from engine.training.metrics import MAIN_METRIC, METRIC_NAMES, is_better

    spec, bundle, learner = run.spec, run.bundle, run.learner
    folder = ck.models_dir(project)
    fe, total = recipe.split_epochs(config.epochs, config.freeze_epochs, bundle.pretrained)
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
        lr = tr._find(run, fe > 0, tr.LR_FIND_ITERS).suggestion
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
                base_lr = recipe.phase_lr(lr, frozen, fe)
                opt, sched = tr._optimizer(
                    bundle, base_lr, frozen, config.weight_decay, n_ep * steps
                )
                saved_phase = resume_ck.get("phase") if resume_ck is not None else None
                if saved_phase == phase and "optimizer_state" in resume_ck:
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

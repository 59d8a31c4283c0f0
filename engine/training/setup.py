"""Everything a training run needs, built from a project and a TrainConfig: the checked data,
the device, the model, the loaders and the `Learner` (`build_run`); and the same for a saved
model judged on the project's validation images (`saved_model_learner`).

Seeds are set before the model is built, so a run with the same settings starts from the same
weights. Device choice, CPU threads and mixed precision follow engine.devices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import torch
from torch.utils.data import DataLoader

from engine.config import TrainConfig
from engine.control import RunControl
from engine.devices import pick_device, set_cpu_threads
from engine.errors import TrainingError, WeightsError
from engine.events import emit
from engine.models.checkpoint import load_model_state
from engine.models.registry import ModelBundle, build_model
from engine.training import balance
from engine.training.augment import BatchPrep
from engine.training.data import DataSpec, ImageDataset, make_loader, prepare_data
from engine.training.learner import Learner
from engine.training.metrics import Metrics
from engine.training.strategy import Strategy, from_environment


@dataclass
class Run:
    """The parts of one training run (what `build_run` made)."""

    spec: DataSpec
    bundle: ModelBundle
    learner: Learner
    train_loader: DataLoader
    valid_loader: DataLoader  # this process's share of the validation images
    device: torch.device
    eval_loader: DataLoader  # every validation image (the final evaluation, on rank 0)


def build_run(
    project,
    config: TrainConfig,
    callbacks=(),
    control: RunControl | None = None,
    strategy: Strategy | None = None,
) -> Run:
    """Check the data, pick the device, seed, build the model and loaders; TrainingError names
    what is wrong with the project, WeightsError what is wrong with the weights.
    Under torchrun (engine.training.strategy.DDP, the default there) each process loads its
    share of the images, batch_size / N at a time; rank 0 prepares the data and the weights
    first, and it alone records unreadable images in the project."""
    strategy = strategy or from_environment()
    batch = strategy.rank_batch(config.batch_size)
    with strategy.rank_zero_first():  # splits assigned, weights downloaded once
        spec = prepare_data(project, config)
        device = strategy.device(_device(config))
        random.seed(config.seed)
        np.random.seed(config.seed % 2**32)
        torch.manual_seed(config.seed)
        bundle = _model(config, spec, callbacks)
    _to_device(bundle, device, config)
    pin = device.type == "cuda"
    interp = bundle.interpolation  # the model's own resampling (timm: its pretrained config)
    train_ds = ImageDataset(spec, "train", config.image_size, config, True, interp)
    valid_ds = ImageDataset(spec, "valid", config.image_size, config, False, interp)
    sampler = balance.train_sampler(spec, config)  # None unless config.balance == "sampler"
    sampler = strategy.train_sampler(train_ds, sampler, config.seed)
    train_dl = make_loader(train_ds, batch, True, config, pin, sampler=sampler)
    valid_sampler = strategy.valid_sampler(valid_ds)
    valid_dl = make_loader(valid_ds, batch, False, config, pin, sampler=valid_sampler)
    eval_dl = valid_dl
    if valid_sampler is not None:
        eval_dl = make_loader(valid_ds, config.batch_size, False, config, pin)
    learner = make_learner(
        bundle,
        spec,
        config,
        device=device,
        callbacks=callbacks,
        control=control,
        project=project if strategy.is_main else None,
    )
    return Run(spec, bundle, learner, train_dl, valid_dl, device, eval_dl)


def _model(config: TrainConfig, spec: DataSpec, callbacks) -> ModelBundle:
    try:
        return build_model(
            config.arch,
            spec.task,
            spec.n_outputs,
            config.weights,
            on_download=lambda ev: emit(callbacks, ev),
        )
    except WeightsError:
        raise
    except ValueError as e:  # an architecture that does not fit the task, ...
        raise TrainingError(str(e)) from e


def _device(config: TrainConfig) -> torch.device:
    device = pick_device(config.device)
    if device.type == "cpu":
        set_cpu_threads(config.leave_one_core)
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed input sizes: pick the fastest kernels
    return device


def _to_device(bundle: ModelBundle, device: torch.device, config: TrainConfig) -> None:
    bundle.model.to(device)
    if config.channels_last:
        bundle.model.to(memory_format=torch.channels_last)


def make_learner(
    bundle: ModelBundle,
    spec: DataSpec,
    config: TrainConfig,
    *,
    device: torch.device,
    callbacks=(),
    control: RunControl | None = None,
    project=None,
) -> Learner:
    """A Learner for `bundle` on `spec`: batch augmentation, the task's loss and metrics."""
    prep = BatchPrep(
        device,
        bundle.mean,
        bundle.std,
        bool(config.channels_last),
        size=config.image_size,
        crop=config.resized_crop,
        flip=config.flip,
        rotate=config.rotate,
        color=config.color_jitter,
    )
    names = spec.targets if spec.task == "regression" else spec.class_names
    mean, std = target_norm(spec, spec.target_mean, spec.target_std)

    def metrics_factory():
        return Metrics(spec.task, names, config.multilabel_threshold, mean, std)

    return Learner(
        bundle=bundle,
        spec=spec,
        config=config,
        device=device,
        prep=prep,
        loss_fn=balance.make_loss(spec, config),
        metrics_factory=metrics_factory,
        callbacks=callbacks,
        control=control,
        project=project,
    )


def target_norm(spec: DataSpec, mean, std) -> tuple:
    """(mean, std) for regression's target normalisation; (None, None) for other tasks."""
    if spec.task != "regression" or mean is None:
        return None, None
    return mean, std


def fits_spec(ckpt: dict, spec: DataSpec) -> bool:
    """True when a saved model predicts what `spec` labels (same task, classes or targets)."""
    names = spec.targets if spec.task == "regression" else spec.class_names
    saved = ckpt.get("targets") if spec.task == "regression" else ckpt.get("class_names")
    return (
        ckpt.get("task") == spec.task
        and list(saved or []) == list(names)
        and int(ckpt.get("n_outputs", -1)) == spec.n_outputs
    )


def saved_model_learner(
    ckpt: dict,
    spec: DataSpec,
    config: TrainConfig,
    *,
    device: torch.device,
    control: RunControl | None = None,
) -> tuple[Learner, DataLoader]:
    """A Learner for a saved model (its own image size and normalisation) and a loader of
    `spec`'s validation images, to measure it as a run's own model is measured. `ckpt` must
    fit `spec` (see `fits_spec`)."""
    cfg = TrainConfig.from_dict(
        {
            **config.to_dict(),
            "arch": ckpt["arch"],
            "image_size": int(ckpt["image_size"]),
            "multilabel_threshold": float(ckpt.get("multilabel_threshold", 0.5)),
        }
    )
    bundle = build_model(ckpt["arch"], spec.task, int(ckpt["n_outputs"]), "none")
    bundle.mean = tuple(float(v) for v in ckpt["mean"])
    bundle.std = tuple(float(v) for v in ckpt["std"])
    bundle.interpolation = str(ckpt.get("interpolation", "bilinear"))
    load_model_state(
        bundle, ckpt["model_state"], *target_norm(spec, spec.target_mean, spec.target_std)
    )
    _to_device(bundle, device, cfg)
    learner = make_learner(bundle, spec, cfg, device=device, control=control)
    valid_ds = ImageDataset(spec, "valid", cfg.image_size, cfg, False, bundle.interpolation)
    return learner, make_loader(valid_ds, cfg.batch_size, False, cfg, device.type == "cuda")

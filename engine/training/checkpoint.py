"""Checkpoints in PROJECT/models/: best.pt, last.pt (with optimizer + scheduler for resume) and
history.json. Plain state only, so `torch.load(path, weights_only=True)` reads them; written to
a temporary file and renamed, so a crash mid-write never leaves half a model.

Regression models are trained on normalised targets; the saved model has the target mean / std
folded into its last Linear layer, so it outputs real units (the predictor needs nothing else).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

FORMAT = "topdown-model"
VERSION = 1
BEST, LAST, HISTORY = "best.pt", "last.pt", "history.json"


def models_dir(project) -> Path:
    d = Path(project.path) / "models"
    d.mkdir(exist_ok=True)
    return d


def atomic_save(obj: dict, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _head_linear(bundle):
    from torch import nn

    lin = bundle.head[-1] if bundle.head else None
    return lin if isinstance(lin, nn.Linear) else None


def model_state(bundle, target_mean=None, target_std=None) -> dict:
    """A CPU copy of the model's state dict (regression: folded into real units)."""
    state = {k: v.detach().to("cpu", copy=True) for k, v in bundle.model.state_dict().items()}
    lin = _head_linear(bundle)
    if target_mean is not None and lin is not None:
        name = _param_name(bundle.model, lin)
        std = torch.tensor(target_std, dtype=state[name + ".weight"].dtype)
        mean = torch.tensor(target_mean, dtype=std.dtype)
        state[name + ".weight"] = state[name + ".weight"] * std[:, None]
        state[name + ".bias"] = state[name + ".bias"] * std + mean
    return state


def load_model_state(bundle, state: dict, target_mean=None, target_std=None) -> None:
    """Inverse of `model_state`: load, un-folding regression normalisation."""
    state = dict(state)
    lin = _head_linear(bundle)
    if target_mean is not None and lin is not None:
        name = _param_name(bundle.model, lin)
        std = torch.tensor(target_std, dtype=state[name + ".weight"].dtype)
        mean = torch.tensor(target_mean, dtype=std.dtype)
        state[name + ".weight"] = state[name + ".weight"] / std[:, None]
        state[name + ".bias"] = (state[name + ".bias"] - mean) / std
    bundle.model.load_state_dict(state)


def _param_name(model, module) -> str:
    for name, m in model.named_modules():
        if m is module:
            return name
    raise KeyError("head module not found in model")


def make_checkpoint(
    bundle,
    spec,
    config,
    epoch: int,
    metrics: dict,
    history: list,
    optimizer=None,
    scheduler=None,
    extra: dict | None = None,
) -> dict:
    """The checkpoint dict of docs/CONTRACTS.md."""
    reg = spec.task == "regression"
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "task": spec.task,
        "arch": bundle.arch,
        "class_names": list(spec.class_names),
        "targets": list(spec.targets),
        "n_outputs": int(spec.n_outputs),
        "image_size": int(config.image_size),
        "resize": "squish",
        "mean": [float(v) for v in bundle.mean],
        "std": [float(v) for v in bundle.std],
        "model_state": model_state(
            bundle, spec.target_mean if reg else None, spec.target_std if reg else None
        ),
        "epoch": int(epoch),
        "config": config.to_dict(),
        "metrics": {k: float(v) for k, v in metrics.items()},
        "history": _plain(history),
        "multilabel_threshold": float(config.multilabel_threshold),
        "target_mean": list(spec.target_mean),
        "target_std": list(spec.target_std),
    }
    if optimizer is not None:
        ckpt["optimizer_state"] = optimizer.state_dict()
    if scheduler is not None:
        ckpt["scheduler_state"] = scheduler.state_dict()
    if extra:
        ckpt.update(extra)
    return ckpt


def _plain(history: list) -> list:
    return json.loads(json.dumps(history))


def save_history(project, history: list) -> None:
    from engine.project.store import atomic_write_text

    atomic_write_text(models_dir(project) / HISTORY, json.dumps(history, indent=2))


def load_history(project) -> list[dict]:
    """The epochs `save_history` stored for the project's last run ([] before any run);
    ValueError naming the file when it cannot be read."""
    path = Path(project.path) / "models" / HISTORY
    if not path.is_file():
        return []
    try:
        history = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"{path}: the training history cannot be read ({e}).") from e
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise ValueError(f"{path}: the training history is not a list of epochs.")
    return history


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read a checkpoint safely (weights_only); ValueError if it is not a Topdown model."""
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ValueError(f"{path} is not a Topdown model file.")
    return ckpt

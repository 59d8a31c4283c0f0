"""The Topdown model file (a checkpoint): its format, the one reader, and atomic writing.

A checkpoint is a dict of plain state, so `torch.load(path, weights_only=True)` reads it; it is
written to a temporary file and renamed, so a crash mid-write never leaves half a model.
Training writes them (engine.training.runs says where); prediction, evaluation and resume read
them with `load_checkpoint`.

Regression models are trained on normalised targets; the saved model has the target mean / std
folded into its last Linear layer, so it outputs real units (the predictor needs nothing else).
torch is imported inside the functions, so importing this module stays cheap.

Where: PROJECT/models/best.pt (the model in use), models/runs/<id>/{best,last}.pt. The dict:
`{"format": "topdown-model", "version": 1, "task", "arch", "class_names": [..], "targets": [..],
"n_outputs", "image_size", "mean": [3], "std": [3], "interpolation" ("bilinear" | "bicubic";
absent in older files: bilinear), "model_state", "optimizer_state" (last.pt), "scheduler_state"
(last.pt), "epoch", "config": TrainConfig dict, "metrics": {..}, "history": [..],
"multilabel_threshold", "run_id", "world_size", "global_batch_size"}`, plain types and tensors
only. Files from before training runs have no `run_id`; files from before distributed training
have no `world_size` (read as 1) or `global_batch_size`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.atomic import write_file
from engine.errors import ModelFileError, load_refusal

FORMAT = "topdown-model"
VERSION = 1
BEST, LAST = "best.pt", "last.pt"  # a run's best model, and its latest state (for resume)
MODELS_DIR = "models"  # in a project folder; PROJECT/models/best.pt is the model in use
REQUIRED = ("task", "arch", "n_outputs", "image_size", "mean", "std", "model_state")


def atomic_save(obj: dict, path: Path) -> None:
    """torch.save to a temporary file beside `path`, fsync, then rename over `path`. When the
    disk refuses (full, read-only, no permission, I/O error) the temporary file is removed, the
    old `path` stays as it was, and a StorageError names the folder and the remedy
    (engine.atomic)."""
    import torch

    path = Path(path)
    write_file(path, lambda f: torch.save(obj, f), doing=f"saving the model {path.name}")


def model_in_use_file(project_dir: str | os.PathLike) -> Path | None:
    """PROJECT/models/best.pt, the model Evaluate and Predict use (or the models/last.pt that a
    Topdown from before training runs left on its own); None when there is none."""
    folder = Path(project_dir) / MODELS_DIR
    for name in (BEST, LAST):
        if (folder / name).is_file():
            return folder / name
    return None


def load_checkpoint(path: str | os.PathLike) -> dict:
    """Read and check a Topdown model file (weights_only); ModelFileError names the problem."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise ModelFileError(f"Model file not found: {p}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # not a zip / pickle refused / truncated
        raise ModelFileError(load_refusal(p, e, "Topdown model file")) from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise ModelFileError(f"{p} is not a Topdown model file (no '{FORMAT}' marker).")
    missing = [k for k in REQUIRED if k not in ckpt]
    if missing:
        raise ModelFileError(f"{p} is incomplete: missing {', '.join(missing)}.")
    return ckpt


def _head_linear(bundle: Any) -> Any:
    from torch import nn

    lin = bundle.head[-1] if bundle.head else None
    return lin if isinstance(lin, nn.Linear) else None


def model_state(bundle: Any, target_mean=None, target_std=None) -> dict:
    """A CPU copy of the model's state dict (regression: folded into real units)."""
    import torch

    state = {k: v.detach().to("cpu", copy=True) for k, v in bundle.model.state_dict().items()}
    lin = _head_linear(bundle)
    if target_mean is not None and lin is not None:
        name = _param_name(bundle.model, lin)
        std = torch.tensor(target_std, dtype=state[name + ".weight"].dtype)
        mean = torch.tensor(target_mean, dtype=std.dtype)
        state[name + ".weight"] = state[name + ".weight"] * std[:, None]
        state[name + ".bias"] = state[name + ".bias"] * std + mean
    return state


def load_model_state(bundle: Any, state: dict, target_mean=None, target_std=None) -> None:
    """Inverse of `model_state`: load, un-folding regression normalisation."""
    import torch

    state = dict(state)
    lin = _head_linear(bundle)
    if target_mean is not None and lin is not None:
        name = _param_name(bundle.model, lin)
        std = torch.tensor(target_std, dtype=state[name + ".weight"].dtype)
        mean = torch.tensor(target_mean, dtype=std.dtype)
        state[name + ".weight"] = state[name + ".weight"] / std[:, None]
        state[name + ".bias"] = (state[name + ".bias"] - mean) / std
    bundle.model.load_state_dict(state)


def _param_name(model: Any, module: Any) -> str:
    for name, m in model.named_modules():
        if m is module:
            return name
    raise KeyError("head module not found in model")


def _world_size() -> int:
    import torch.distributed as dist

    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def make_checkpoint(
    *,
    bundle: Any,
    spec: Any,
    config: Any,
    epoch: int,
    metrics: dict,
    history: list,
    optimizer: Any = None,
    scheduler: Any = None,
    extra: dict | None = None,
) -> dict:
    """The checkpoint dict of this module's docstring (`spec`: engine.training.data.DataSpec)."""
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
        "interpolation": str(getattr(bundle, "interpolation", "bilinear")),  # bilinear | bicubic
        "mean": [float(v) for v in bundle.mean],
        "std": [float(v) for v in bundle.std],
        "model_state": model_state(
            bundle, spec.target_mean if reg else None, spec.target_std if reg else None
        ),
        "epoch": int(epoch),
        "config": config.to_dict(),
        "metrics": {k: float(v) for k, v in metrics.items()},
        "history": json.loads(json.dumps(history)),  # plain values only
        "multilabel_threshold": float(config.multilabel_threshold),
        "target_mean": list(spec.target_mean),
        "target_std": list(spec.target_std),
        "world_size": _world_size(),  # processes that trained it (torchrun), 1 without
        "global_batch_size": int(config.batch_size),  # images per step, all processes
    }
    if optimizer is not None:
        ckpt["optimizer_state"] = optimizer.state_dict()
    if scheduler is not None:
        ckpt["scheduler_state"] = scheduler.state_dict()
    if extra:
        ckpt.update(extra)
    return ckpt

"""model.json: the card written beside an exported model, so a colleague without Topdown knows
what goes in, what comes out, how it was trained and how well it did on the validation set."""

from __future__ import annotations

import hashlib
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CARD_FORMAT = "topdown-export"
CARD_VERSION = 1


def resize_rule(interpolation: str = "bilinear") -> str:
    """How the image is resized, in words (the card's `interpolation` names the filter)."""
    f = interpolation.upper()
    return (
        "squish: stretch the whole image to image_size x image_size (no crop, aspect ratio not "
        f"kept) with Pillow's {interpolation} filter, Image.resize((S, S), Image.{f}, "
        "reducing_gap=2.0)"
    )


OUTPUTS = {
    "classification": (
        "logits per class, in class_names order; softmax over axis 1 gives probabilities, "
        "argmax the predicted class"
    ),
    "multilabel": (
        "logits per label, in class_names order; sigmoid gives each label's probability, and "
        "a label is predicted when it is >= multilabel_threshold"
    ),
    "regression": "predicted values in the targets' own units, in targets order (no activation)",
    "segmentation": (
        "per-pixel class logits at the input size (N x classes x S x S); argmax over axis 1 is "
        "the mask of class indices into class_names. For a mask at the original image size, "
        "resize the softmax probabilities bilinearly first, then take the argmax (as Topdown does)"
    ),
}


def topdown_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("topdown")
    except PackageNotFoundError:  # a frozen bundle without package metadata
        return "0.1.0"


def training_images(project_path: Path | None, task: str) -> dict:
    """Count and sha256 of the project's labeled training images (as they are now)."""
    how = (
        "sha256 of the lines '<sha1 of the image file> <path in the project>', one per labeled "
        "image of the train split at export time, sorted, joined with newlines (UTF-8)"
    )
    if project_path is None:
        return {"count": None, "sha256": None, "hash_of": "unknown: exported from a model file"}
    from engine.project.store import Project

    with Project.open(project_path) as project:
        recs = [r for r in project.images(project.query(split="train")) if _labeled(task, r)]
    lines = sorted(f"{r.sha1} {r.file}" for r in recs)
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return {"count": len(lines), "sha256": digest, "hash_of": how}


def _labeled(task: str, rec: Any) -> bool:
    if task == "regression":
        return rec.values is not None
    if task == "segmentation":
        return rec.mask is not None
    return bool(rec.labels)


def started_from(arch: str, weights: str | None) -> str:
    """The weights training began with, in words."""
    from engine.models.registry import ARCHITECTURES

    spec = ARCHITECTURES.get(arch)
    if spec is None and arch.startswith(("timm/", "timm-unet/")):
        from engine.models.registry import arch_spec

        try:
            spec = arch_spec(arch)
        except ValueError:  # a timm model this timm does not know
            spec = None
    if weights in ("imagenet", "pretrained") and spec is not None:
        return f"{weights} ({spec.weights_id}, pretrained on {spec.pretrained_on})"
    if weights == "none":
        return "none (random initialisation, trained from scratch)"
    return f"file {weights}" if weights else "unknown (not recorded in the model file)"


def build_card(
    *,
    predictor: Any,
    fmt: str,
    file_facts: dict,
    parity: dict,
    versions: dict,
    extra: dict,
) -> dict:
    """The model.json dict; `versions` adds export packages, `extra` source and training data."""
    import torch
    import torchvision

    meta = predictor.meta
    s = predictor.image_size
    task = predictor.task
    names = {"targets": predictor.targets} if task == "regression" else {}
    names = names or {"class_names": predictor.class_names}
    out_shape = ["batch", predictor.n_outputs] + ([s, s] if task == "segmentation" else [])
    card = {
        "format": CARD_FORMAT,
        "card_version": CARD_VERSION,
        "file_format": fmt,
        **file_facts,
        "task": task,
        **names,
        "architecture": predictor.arch,
        "weights_started_from": started_from(predictor.arch, meta.get("config", {}).get("weights")),
        "image_size": s,
        "interpolation": predictor.interpolation,  # Pillow's filter for the resize
        "mean": [float(v) for v in meta.get("mean", predictor.mean.ravel())],
        "std": [float(v) for v in meta.get("std", predictor.std.ravel())],
        "input": {
            "name": "image",
            "shape": ["batch", 3, s, s],
            "dtype": "float32",
            "layout": "NCHW, RGB",
            "range": "0..1 (pixel / 255)",
            "normalisation": "inside the model: (x - mean) / std; do not normalise again",
        },
        "preprocessing": [
            "open the image, apply its EXIF orientation (PIL.ImageOps.exif_transpose)",
            "convert to 8-bit RGB (Topdown composites transparency on white and stretches "
            "16-bit grey images to 0..255)",
            resize_rule(predictor.interpolation),
            "float32, divide by 255, HWC -> CHW, stack into a batch (any batch size)",
        ],
        "output": {"name": "output", "shape": out_shape, "dtype": "float32", "meaning": ""},
        "validation_metrics": {k: float(v) for k, v in (meta.get("metrics") or {}).items()},
        "epoch": meta.get("epoch"),
        "training_config": meta.get("config") or {},
        "parity": parity,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": {
            "topdown": topdown_version(),
            "torch": torch.__version__,
            "torchvision": torchvision.__version__,
            "python": platform.python_version(),
            **versions,
        },
        **extra,
    }
    card["output"]["meaning"] = OUTPUTS[task]
    if task == "multilabel":
        card["multilabel_threshold"] = predictor.threshold
    return card

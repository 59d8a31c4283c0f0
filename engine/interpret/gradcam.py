"""Grad-CAM heatmaps: where a classification / multi-label model looks for a class.

Written here with torch hooks rather than taken from captum (LayerGradCam): Grad-CAM is ~80
lines, while captum is a further dependency to ship in the frozen app and keep version-matched
with torch, for one function. Method (Selvaraju et al. 2017): capture the last convolutional
stage's activations A (one forward hook), take d logit_c / dA, average it over space to get one
weight per channel, and keep ReLU(sum_k w_k A_k), upsampled to the input and scaled to 0..1.
The layer per torchvision architecture is `engine.models.registry.CAM_LAYERS`; for timm's
networks it is the output of `forward_features` (the last feature map before timm's pooling
head: e.g. conv_head/bn2 of an EfficientNet, layer4 of a ResNet), for any timm model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

CAM_TASKS = ("classification", "multilabel")


class HeatmapError(ValueError):
    """A heatmap that cannot be made (task without classes, unknown class); says why."""


@dataclass
class Heatmaps:
    """Grad-CAM maps of one image: class name -> HxW float32 in 0..1 (model input size)."""

    path: str
    maps: dict[str, np.ndarray] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)  # probability per mapped class


def cam_layer(model: Any, arch: str) -> Any:
    """The module of `model` whose output Grad-CAM uses for `arch` (see CAM_LAYERS)."""
    from engine.models.registry import CAM_LAYERS

    if arch.startswith("timm/") and hasattr(model, "forward_features"):
        return TimmFeatures(model)
    if arch not in CAM_LAYERS:
        raise HeatmapError(f"No heatmap layer is known for architecture {arch!r}.")
    return model.get_submodule(CAM_LAYERS[arch])


class TimmFeatures:
    """Grad-CAM's layer for a timm model: its `forward_features` output, captured by running
    the model as forward_features + forward_head (what timm's forward does)."""

    def __init__(self, model: Any):
        self.model = model
        self._hooks: list = []

    def register_forward_hook(self, hook: Any) -> TimmFeatures:
        self._hooks.append(hook)
        return self

    def remove(self) -> None:
        self._hooks.clear()

    def __call__(self, x: Any) -> Any:
        feats = self.model.forward_features(x)
        for hook in self._hooks:
            hook(self, (x,), feats)
        return self.model.forward_head(feats)


def gradcam(model: Any, layer: Any, x: Any, class_indices: Sequence[int]) -> np.ndarray:
    """Grad-CAM of one input batch `x` (1xCxHxW) for each class index: (K, H, W) in 0..1.

    Scores are the raw logits (before softmax / sigmoid), as in the paper. A map that is zero
    everywhere (no positive evidence) stays zero rather than being stretched.
    """
    import torch
    import torch.nn.functional as F  # noqa: N812

    captured: list = []
    handle = layer.register_forward_hook(lambda _m, _i, out: captured.append(out))
    try:
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)  # gradients flow even if weights are frozen
            logits = layer(x) if isinstance(layer, TimmFeatures) else model(x)
            acts = captured[-1]
            if acts.dim() != 4:
                raise HeatmapError(f"The heatmap layer gives shape {tuple(acts.shape)}, not NCHW.")
            maps = []
            for c in class_indices:
                (grad,) = torch.autograd.grad(logits[0, int(c)], acts, retain_graph=True)
                weights = grad[0].mean(dim=(1, 2))
                maps.append(torch.relu((weights[:, None, None] * acts[0]).sum(0)))
    finally:
        handle.remove()
    cams = torch.stack(maps)[:, None].detach().float()
    cams = F.interpolate(cams, size=tuple(x.shape[-2:]), mode="bilinear", align_corners=False)
    cams = cams[:, 0].cpu().numpy()
    peak = cams.reshape(len(cams), -1).max(axis=1)
    scale = np.where(peak > 0, peak, 1.0)
    return (cams / scale[:, None, None]).clip(0, 1).astype(np.float32)


def explain(predictor: Any, image: Any, classes: Sequence[str] = ()) -> Heatmaps:
    """Heatmaps of one image (path or PIL) for its predicted class(es) plus `classes`.

    Predicted: the top class (classification); every label over the threshold, else the top
    one (multi-label). Raises HeatmapError for other tasks or an unknown class name.
    """
    import torch

    if predictor.task not in CAM_TASKS:
        raise HeatmapError(
            f"Heatmaps are made for classification and multi-label models, not {predictor.task}."
        )
    names = list(predictor.output_names)
    unknown = [c for c in classes if c not in names]
    if unknown:
        raise HeatmapError(f"Unknown class {unknown[0]!r}; the model knows: {', '.join(names)}.")
    x, _size, path = predictor.prepare(image)
    xt = torch.from_numpy(np.ascontiguousarray(x[None])).to(predictor.device)
    with torch.inference_mode():
        probs = predictor._activate(predictor.model(xt).float())[0].cpu().numpy()
    top = int(probs.argmax())
    picked = [top]
    if predictor.task == "multilabel":
        picked = [i for i, p in enumerate(probs) if p >= predictor.threshold] or [top]
    picked += [names.index(c) for c in classes if names.index(c) not in picked]
    cams = gradcam(predictor.model, cam_layer(predictor.model, predictor.arch), xt, picked)
    return Heatmaps(
        path=path,
        maps={names[i]: cams[k] for k, i in enumerate(picked)},
        scores={names[i]: float(probs[i]) for i in picked},
    )


def colorize(cam: np.ndarray) -> np.ndarray:
    """HxW 0..1 -> HxWx3 uint8 in a blue-green-yellow-red ramp (no matplotlib needed)."""
    stops = np.array([[0, 0, 128], [0, 128, 255], [0, 220, 120], [255, 230, 0], [230, 0, 0]])
    pos = np.clip(cam, 0, 1) * (len(stops) - 1)
    lo = np.floor(pos).astype(int).clip(0, len(stops) - 2)
    t = (pos - lo)[..., None]
    return (stops[lo] * (1 - t) + stops[lo + 1] * t).astype(np.uint8)


def overlay(image: Image.Image, cam: np.ndarray, opacity: float = 0.5) -> Image.Image:
    """The heatmap blended over `image` (resized to the image), `opacity` 0 (image) .. 1 (map).

    The blend is weighted by the map's own value, so areas without evidence show the image."""
    rgb = np.asarray(image.convert("RGB"), np.float32)
    h, w = rgb.shape[:2]
    big = np.asarray(
        Image.fromarray((np.clip(cam, 0, 1) * 255).astype(np.uint8)).resize((w, h), Image.BILINEAR),
        np.float32,
    )
    colors = colorize(big / 255.0).astype(np.float32)
    a = float(np.clip(opacity, 0, 1)) * np.sqrt(big / 255.0)[..., None]
    return Image.fromarray((rgb * (1 - a) + colors * a).round().astype(np.uint8))


def save_overlays(
    heat: Heatmaps, image: Image.Image, out_dir: str | os.PathLike, stem: str, opacity: float = 0.5
) -> dict[str, str]:
    """Write one overlay PNG per class as OUT/<stem>_<class>.png (atomic); class -> path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, str] = {}
    for name, cam in heat.maps.items():
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name) or "class"
        target = out / f"{stem}_{safe}.png"
        tmp = target.with_name(f".{target.name}.tmp")
        overlay(image, cam, opacity).save(tmp, format="PNG")
        os.replace(tmp, target)
        written[name] = str(target)
    return written

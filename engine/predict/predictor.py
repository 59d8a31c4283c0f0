"""Predict with a trained Topdown model: one image, a list, or a folder (via the CLI / GUI).

Preprocessing repeats validation exactly (engine.training.data): upright RGB, squished to the
checkpoint's image_size with its interpolation (bilinear, or the model's own, e.g. bicubic for
timm's networks), scaled to 0-1 and normalised with the checkpoint's mean/std. Segmentation
logits are resized back to the original image before the arg-max, so masks line up with the
user's file. torch loads lazily (GUI start-up stays fast).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from engine.errors import ModelFileError
from engine.events import Skipped
from engine.imaging import BadImage, load_rgb, resample_filter
from engine.models.checkpoint import load_checkpoint, model_in_use_file

MAX_MASK_FLOATS = 48_000_000  # cap of the upsampled class-probability map (~190 MB)


@dataclass(frozen=True)
class Prediction:
    path: str  # "" when a PIL image was given
    task: str
    label: str | None = None  # top class (classification / multilabel), else None
    probs: dict[str, float] = field(default_factory=dict)  # per class / per label
    labels: list[str] = field(default_factory=list)  # multilabel: above the threshold
    values: list[float] = field(default_factory=list)  # regression, in the targets' order
    mask: np.ndarray | None = None  # segmentation: HxW uint8 class indices, original size
    class_fractions: dict[str, float] = field(default_factory=dict)  # segmentation


def resolve_model_path(path: str | os.PathLike) -> Path:
    """A .pt file as given, or the model in use of a project folder (engine.training.runs)."""
    p = Path(path).expanduser()
    if p.is_dir():
        found = model_in_use_file(p)
        if found is None:
            raise ModelFileError(
                f"{p} has no trained model yet (no models/best.pt). Train a model in this "
                "project first; a stopped run's model is used once the run finishes or you "
                "choose it."
            )
        return found
    if not p.is_file():
        raise ModelFileError(f"Model file not found: {p}")
    return p


class Predictor:
    """A trained model ready to predict; build it with `Predictor.from_path`."""

    def __init__(self, model: Any, ckpt: dict, device: Any, source: str = ""):
        self.model = model
        self.device = device
        self.source = source
        self.task: str = ckpt["task"]
        self.arch: str = ckpt["arch"]
        self.n_outputs = int(ckpt["n_outputs"])
        self.class_names: list[str] = [str(c) for c in ckpt.get("class_names") or []]
        self.targets: list[str] = [str(t) for t in ckpt.get("targets") or []]
        self.image_size = int(ckpt["image_size"])
        self.interpolation = str(ckpt.get("interpolation", "bilinear"))  # older files: bilinear
        self.mean = np.asarray(ckpt["mean"], np.float32).reshape(3, 1, 1)
        self.std = np.asarray(ckpt["std"], np.float32).reshape(3, 1, 1)
        self.threshold = float(ckpt.get("multilabel_threshold", 0.5))
        # everything but the weights, for whoever describes the model (e.g. engine.export)
        self.meta = {k: v for k, v in ckpt.items() if not k.endswith("_state")}
        names = self.targets if self.task == "regression" else self.class_names
        if len(names) != self.n_outputs:  # tolerate old/odd files: fall back to numbers
            names = [str(i) for i in range(self.n_outputs)]
        self.output_names = names

    @classmethod
    def from_path(cls, path: str | os.PathLike, device: str = "auto") -> Predictor:
        """Load a model file or a project's best model, on `device` (auto|cpu|cuda|mps)."""
        from engine.devices import pick_device
        from engine.models.registry import build_model

        p = resolve_model_path(path)
        ckpt = load_checkpoint(p)
        try:
            bundle = build_model(ckpt["arch"], ckpt["task"], int(ckpt["n_outputs"]), "none")
            bundle.model.load_state_dict(ckpt["model_state"])
        except (ValueError, RuntimeError, KeyError) as e:
            raise ModelFileError(f"{p} cannot be loaded as a {ckpt['arch']} model ({e})") from e
        dev = pick_device(device)
        model = bundle.model.to(dev).eval()
        return cls(model, ckpt, dev, str(p))

    # ---- preprocessing ----

    def prepare(self, image: Any) -> tuple[np.ndarray, tuple[int, int], str]:
        """(normalised CHW float32, original (W, H), path) for a path or a PIL image: the
        network's input for one image (BadImage / OSError for a file that cannot be read)."""
        x, size, path = self.prepare_unit(image)
        return (x - self.mean) / self.std, size, path

    def prepare_unit(self, image: Any) -> tuple[np.ndarray, tuple[int, int], str]:
        """(CHW float32 RGB in 0..1 at the model's size, original (W, H), path): the
        preprocessing before normalisation (an exported model takes this as input)."""
        if isinstance(image, Image.Image):
            from engine.imaging import to_rgb

            im, path = to_rgb(image), ""
        else:
            path = str(image)
            im = load_rgb(path)
        size = im.size
        s = self.image_size
        im = im.resize((s, s), resample_filter(self.interpolation), reducing_gap=2.0)
        return np.asarray(im, dtype=np.float32).transpose(2, 0, 1) / 255.0, size, path

    # ---- inference ----

    def forward(self, batch: np.ndarray, tta: bool) -> Any:
        """Activated outputs on CPU for a batch of `prepare`d images: probabilities, values, or
        per-pixel class probabilities."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            out = self._activate(self.model(x).float())
            if tta:
                flipped = self._activate(self.model(torch.flip(x, dims=[3])).float())
                if self.task == "segmentation":
                    flipped = torch.flip(flipped, dims=[3])
                out = (out + flipped) / 2
            return out.cpu()

    def _activate(self, y: Any) -> Any:
        if self.task in ("classification", "segmentation"):
            return y.softmax(dim=1)
        if self.task == "multilabel":
            return y.sigmoid()
        return y

    def _result(self, out: Any, size: tuple[int, int], path: str) -> Prediction:
        names = self.output_names
        if self.task == "regression":
            return Prediction(path, self.task, values=[float(v) for v in out.tolist()])
        if self.task == "segmentation":
            return self._seg_result(out, size, path)
        probs = {n: float(p) for n, p in zip(names, out.tolist(), strict=True)}
        top = max(probs, key=probs.__getitem__)
        if self.task == "classification":
            return Prediction(path, self.task, label=top, probs=probs, labels=[top])
        chosen = [n for n in names if probs[n] >= self.threshold]
        return Prediction(
            path, self.task, label=top if chosen else None, probs=probs, labels=chosen
        )

    def _seg_result(self, out: Any, size: tuple[int, int], path: str) -> Prediction:
        import torch
        import torch.nn.functional as F  # noqa: N812

        w, h = size
        # Smooth (bilinear) class boundaries at the original size; for huge images the
        # C x H x W float map would take GBs, so go bilinear to a capped size, then nearest.
        scale = min(1.0, (MAX_MASK_FLOATS / (out.shape[0] * w * h)) ** 0.5)
        sh, sw = max(1, round(h * scale)), max(1, round(w * scale))
        probs = F.interpolate(out[None], size=(sh, sw), mode="bilinear", align_corners=False)[0]
        mask = probs.argmax(dim=0).to(torch.uint8).numpy()
        if (sh, sw) != (h, w):
            mask = np.asarray(Image.fromarray(mask).resize((w, h), Image.NEAREST))
        mask = np.ascontiguousarray(mask).copy()
        counts = np.bincount(mask.ravel(), minlength=len(self.output_names))
        total = max(1, mask.size)
        fractions = {n: float(c) / total for n, c in zip(self.output_names, counts, strict=False)}
        return Prediction(path, self.task, mask=mask, class_fractions=fractions)

    def predict(self, image: str | os.PathLike | Image.Image, tta: bool = False) -> Prediction:
        """Predict one image (a path or a PIL image); a bad file raises BadImage."""
        x, size, path = self.prepare(image)
        return self._result(self.forward(x[None], tta)[0], size, path)

    def predict_many(
        self,
        paths: Iterable[str | os.PathLike],
        control: Any = None,
        on_item: Callable[[Prediction | Skipped], None] | None = None,
        tta: bool = False,
        batch_size: int = 16,
    ) -> list[Prediction | Skipped]:
        """Predict many files in batches; a bad file becomes Skipped(path, reason), the rest
        go on. `control.check()` runs per file (pause / cancel); `on_item` gets each result
        in input order."""
        results: list[Prediction | Skipped] = []
        pending: list[tuple[int, np.ndarray, tuple[int, int], str]] = []

        def flush() -> None:
            if not pending:
                return
            out = self.forward(np.stack([p[1] for p in pending]), tta)
            for k, (i, _x, size, path) in enumerate(pending):
                results[i] = self._result(out[k], size, path)
            pending.clear()

        emitted = 0
        for path in paths:
            if control is not None:
                control.check()
            results.append(Skipped(str(path), ""))  # placeholder, replaced below
            try:
                x, size, p = self.prepare(path)
                pending.append((len(results) - 1, x, size, p))
            except BadImage as e:
                results[-1] = Skipped(e.path, e.reason)
            except OSError as e:
                results[-1] = Skipped(str(path), f"cannot be read ({e.strerror or e})")
            if len(pending) >= batch_size:
                flush()
            if not pending:  # everything so far is final: report it
                emitted = _emit(results, emitted, on_item)
        flush()
        _emit(results, emitted, on_item)
        return results


def _emit(results: Sequence, start: int, on_item: Callable | None) -> int:
    if on_item is not None:
        for r in results[start:]:
            on_item(r)
    return len(results)


def default_colors(n: int) -> list[tuple[int, int, int]]:
    """Distinct colours for class indices (PASCAL VOC's scheme: 0 = black background)."""
    colors = []
    for i in range(n):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        colors.append((r, g, b))
    return colors


def _rgb(color: Any) -> tuple[int, int, int]:
    if isinstance(color, str):
        s = color.lstrip("#")
        return int(s[0:2], 16), int(s[2:4], 16), int(s[4:6], 16)
    return int(color[0]), int(color[1]), int(color[2])


def save_mask_png(
    mask: np.ndarray, path: str | os.PathLike, class_colors: Sequence | None = None
) -> Path:
    """Save a class-index mask as a palette PNG: pixel values are class indices (readable by
    engine.imaging.load_mask) and the palette shows each class in its colour."""
    a = np.asarray(mask)
    if a.ndim != 2:
        raise ValueError(f"A mask must be 2-D (H x W), got shape {a.shape}.")
    im = Image.fromarray(a.astype(np.uint8), "P")
    colors = [_rgb(c) for c in class_colors] if class_colors else []
    colors += default_colors(256)[len(colors) :]
    im.putpalette([v for c in colors[:256] for v in c])
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    im.save(tmp, format="PNG")
    os.replace(tmp, p)
    return p

"""Tiny generated projects of every task, built through the Project API (the one place tests
make projects).

`make_project`: learnable labels for training tests; `make_labeled_project`: explicit per-image
labels/values/splits (unlabeled by default) for browsing and labelling tests; `make_seg_project`:
one hand-drawn scene with a known mask; `train_tiny_projects`: one trained project per task.

Images are small (32 px by default) and their labels are visible in the pixels, so a few
training steps can learn them: classification = red / blue / green tint, multi-label = a red
and/or a blue square, regression = brightness (0-100), segmentation = a bright square (class 1)
on a dark background (class 0). A quarter of each label's images go to the valid split.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from engine.config import TrainConfig
from engine.imaging import file_sha1
from engine.project.store import NewImage, Project

TINTS = {"red": (200, 40, 40), "blue": (40, 60, 200), "green": (40, 180, 60)}


def tiny_config(**kw) -> TrainConfig:
    """A config for fast CPU tests: random init, 32 px, batch 8, 2 epochs (1 frozen if the weights
    are pretrained), fixed LR."""
    base = dict(
        arch="resnet18",
        weights="none",
        epochs=2,
        freeze_epochs=1,
        lr=1e-3,
        image_size=32,
        batch_size=8,
        device="cpu",
        rotate=False,
        leave_one_core=True,  # one torch thread: much faster when other jobs share the 2 cores
        cache_mb=64,
    )
    base.update(kw)
    return TrainConfig(**base)


def _noise(rng, size: int) -> np.ndarray:
    return rng.integers(-20, 21, size=(size, size, 3))


def _save(project: Project, name: str, arr: np.ndarray) -> tuple[str, str]:
    rel = f"images/{name}.png"
    path = project.path / rel
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path)
    return rel, file_sha1(path)


def _new(project, name, arr, size, split, **kw) -> NewImage:
    rel, sha = _save(project, name, arr)
    return NewImage(
        file=rel,
        name=f"{name}.png",
        source="generated",
        sha1=sha,
        width=size,
        height=size,
        split=split,
        **kw,
    )


def make_project(
    folder,
    task: str = "classification",
    n: int = 40,
    size: int = 32,
    classes=("red", "blue"),
    seed: int = 0,
) -> Project:
    """A project of `n` generated images with labels; split 3:1 train/valid."""
    folder = Path(folder)
    rng = np.random.default_rng(seed)
    project = Project.create(folder, task, targets=("brightness",) if task == "regression" else ())
    items = []
    for i in range(n):
        period = len(classes) if task == "classification" else 3
        split = "valid" if (i // period) % 4 == 3 else "train"  # every label in both splits
        name = f"img_{i:03d}"
        if task == "classification":
            c = classes[i % len(classes)]
            arr = np.full((size, size, 3), TINTS.get(c, (128, 128, 128))) + _noise(rng, size)
            items.append(_new(project, name, arr, size, split, labels=[c]))
        elif task == "multilabel":
            arr = np.full((size, size, 3), 90) + _noise(rng, size)
            labels = [["red"], ["blue"], ["red", "blue"]][i % 3]
            h = size // 2
            if "red" in labels:
                arr[:h, :h] = TINTS["red"]
            if "blue" in labels:
                arr[h:, h:] = TINTS["blue"]
            items.append(_new(project, name, arr, size, split, labels=labels))
        elif task == "regression":
            v = float(rng.uniform(0, 100))
            arr = np.full((size, size, 3), 40 + v * 1.8) + _noise(rng, size)
            items.append(_new(project, name, arr, size, split, values=[v]))
        elif task == "segmentation":
            if i == 0:
                project.ensure_classes(["background", "square"])
            arr = np.full((size, size, 3), 30) + _noise(rng, size)
            mask = np.zeros((size, size), np.uint8)
            s = int(rng.integers(size // 4, size // 2))
            y0, x0 = (int(v) for v in rng.integers(0, size - s, 2))
            arr[y0 : y0 + s, x0 : x0 + s] = 220
            mask[y0 : y0 + s, x0 : x0 + s] = 1
            mask[0, 0] = 255  # an unlabeled pixel, ignored by the loss
            mrel = f"masks/{name}.png"
            Image.fromarray(mask).save(project.path / mrel)
            items.append(_new(project, name, arr, size, split, mask=mrel))
        else:
            raise ValueError(task)
    project.add_images(items)
    return project


class Recorder:
    """A callback that keeps every event it is given, by the name of its hook."""

    def __init__(self):
        self.events: dict[str, list] = {}

    def on_event(self, event) -> None:
        from engine.events import hook_name

        self.events.setdefault(hook_name(event), []).append(event)

    def get(self, hook: str) -> list:
        return self.events.get(hook, [])


COLORS = [(220, 40, 40), (40, 160, 60), (40, 70, 220), (230, 200, 30), (150, 60, 180)]


def _write_png(project: Project, name: str, arr: np.ndarray) -> NewImage:
    rel = f"images/{name}"
    Image.fromarray(arr).save(project.path / rel)
    data = (project.path / rel).read_bytes()
    h, w = arr.shape[:2]
    return NewImage(rel, name, "test", hashlib.sha1(data).hexdigest(), w, h)


def make_labeled_project(
    path: str | Path,
    task: str = "classification",
    n: int = 6,
    classes: Sequence[str] = ("cat", "dog"),
    labels: Sequence[Sequence[str] | None] | None = None,
    values: Sequence[float | None] | None = None,
    size: int = 32,
    bad: Sequence[str] = (),
    splits: Sequence[str] | None = None,
) -> Project:
    """A project with `n` generated images named img_000.png...; labels[i] / values[i] per image
    (None: unlabeled); `bad` names files that are written as garbage bytes (unreadable)."""
    p = Project.create(path, task, targets=["value"] if task == "regression" else ())
    if task != "regression":
        p.ensure_classes(classes)
    items = []
    for i in range(n):
        rng = np.random.default_rng(i)
        arr = np.empty((size, size, 3), np.uint8)
        arr[:] = COLORS[i % len(COLORS)]
        arr[: size // 4] = rng.integers(0, 255, (size // 4, size, 3), dtype=np.uint8)
        it = _write_png(p, f"img_{i:03d}.png", arr)
        if labels is not None and labels[i]:
            it.labels = list(labels[i])
        if values is not None and values[i] is not None:
            it.values = [float(values[i])]
        if splits is not None:
            it.split = splits[i]
        items.append(it)
    for name in bad:
        rel = f"images/{name}"
        (p.path / rel).write_bytes(b"this is not an image at all")
        items.append(NewImage(rel, name, "test", hashlib.sha1(name.encode()).hexdigest(), 10, 10))
    p.add_images(items)
    return p


def make_seg_project(path: str | Path, size: int = 40) -> tuple[Project, np.ndarray]:
    """One grey image with a mask: left half class 1 ('road'), a square of class 2 ('car'),
    the rest background (0) and a stripe of unlabeled (255). Returns (project, mask)."""
    p = Project.create(path, "segmentation")
    p.ensure_classes(["background", "road", "car"])
    p.recolor_class("road", "#ff0000")
    p.recolor_class("car", "#0000ff")
    arr = np.full((size, size, 3), 128, np.uint8)
    it = _write_png(p, "scene.png", arr)
    mask = np.zeros((size, size), np.uint8)
    mask[:, : size // 2] = 1
    mask[size // 4 : size // 2, size // 2 + 4 : size - 4] = 2
    mask[-4:, :] = 255
    Image.fromarray(mask, "L").save(p.path / "masks/scene.png")
    it.mask = "masks/scene.png"
    p.add_images([it])
    return p, mask


ARCH = {
    "classification": "resnet18",
    "segmentation": "lraspp_mobilenet_v3_large",
    "regression": "resnet18",
}


def train_tiny_projects(root: Path, sizes: Mapping[str, int]) -> dict[str, Path]:
    """One tiny trained project per task in `sizes` (task -> number of images) under `root`,
    returns task -> project folder (the projects are closed)."""
    from engine.training.train import train

    out = {}
    for task, n in sizes.items():
        p = make_project(root / task, task, n=n)
        train(p, tiny_config(arch=ARCH[task], batch_size=4, epochs=1))
        p.close()
        out[task] = root / task
    return out

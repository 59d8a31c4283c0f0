"""Test helper: tiny generated projects of every task, built through the Project API.

Images are small (32 px by default) and their labels are visible in the pixels, so a few
training steps can learn them: classification = red / blue / green tint, multi-label = a red
and/or a blue square, regression = brightness (0-100), segmentation = a bright square (class 1)
on a dark background (class 0). A quarter of each label's images go to the valid split.
Other tests import it.
"""

from __future__ import annotations

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
    """A callback that keeps every event it is given, by hook name."""

    def __init__(self):
        self.events: dict[str, list] = {}

    def __getattr__(self, hook: str):
        if not hook.startswith("on_"):
            raise AttributeError(hook)
        return lambda ev: self.events.setdefault(hook, []).append(ev)

    def get(self, hook: str) -> list:
        return self.events.get(hook, [])

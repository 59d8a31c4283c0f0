"""Fixtures for GUI tests: small projects of generated images (tiny, so tests stay fast).

Other GUI test modules may import `make_project` and `make_seg_project` directly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.project.store import NewImage, Project

COLORS = [(220, 40, 40), (40, 160, 60), (40, 70, 220), (230, 200, 30), (150, 60, 180)]


def _write(project: Project, name: str, arr: np.ndarray) -> NewImage:
    rel = f"images/{name}"
    Image.fromarray(arr).save(project.path / rel)
    data = (project.path / rel).read_bytes()
    h, w = arr.shape[:2]
    return NewImage(rel, name, "test", hashlib.sha1(data).hexdigest(), w, h)


def make_project(
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
        it = _write(p, f"img_{i:03d}.png", arr)
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
    it = _write(p, "scene.png", arr)
    mask = np.zeros((size, size), np.uint8)
    mask[:, : size // 2] = 1
    mask[size // 4 : size // 2, size // 2 + 4 : size - 4] = 2
    mask[-4:, :] = 255
    Image.fromarray(mask, "L").save(p.path / "masks/scene.png")
    it.mask = "masks/scene.png"
    p.add_images([it])
    return p, mask


@pytest.fixture
def page(qtbot):
    """A DataPage in a 1100x700 window, shut down cleanly after the test."""
    from gui.data.page import DataPage

    w = DataPage(None)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.set_project(None)
    w.loader.shutdown()


@pytest.fixture
def bridge():
    """The engine's worker thread, shut down after the test."""
    from gui.bridge import EngineBridge

    b = EngineBridge()
    yield b
    b.shutdown(20000)

"""A demo project of synthetic images: coloured shapes on noisy backgrounds, drawn with PIL.

Lets a new user try the whole path (label, train, evaluate, predict) in a minute on a CPU.
Each shape has its own outline and colour family, so even a small network learns them fast.

- classification: one shape per image; the class is the shape.
- multilabel: one to three different shapes; the labels are the shapes present.
- regression: one to five shapes; the target ``count`` is how many.
- segmentation: one to three shapes; a class-index mask per image (0 = background).

Images are generated content, written straight into the project's ``images/`` folder.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import random

import numpy as np
from PIL import Image, ImageDraw

from engine.imaging import mask_values
from engine.project.store import TASKS, NewImage, Project, ProjectError

SHAPES = ("circle", "square", "triangle", "star")
# a colour family per shape (RGB centre); each image jitters it
_HUES = {
    "circle": (225, 50, 50),
    "square": (50, 90, 230),
    "triangle": (40, 200, 60),
    "star": (240, 210, 30),
}
BACKGROUND = "background"


def _polygon(kind: str, cx: float, cy: float, r: float, rot: float) -> list[tuple[float, float]]:
    if kind == "square":
        pts = [(math.pi / 4 + k * math.pi / 2) for k in range(4)]
        return [(cx + r * math.cos(a + rot), cy + r * math.sin(a + rot)) for a in pts]
    if kind == "triangle":
        pts = [(-math.pi / 2 + k * 2 * math.pi / 3) for k in range(3)]
        return [(cx + r * math.cos(a + rot), cy + r * math.sin(a + rot)) for a in pts]
    # star: 5 points, inner radius 0.45 r
    out = []
    for k in range(10):
        rr = r if k % 2 == 0 else 0.45 * r
        a = -math.pi / 2 + k * math.pi / 5 + rot
        out.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return out


def _draw_shape(draws, kind: str, cx, cy, r, rot, fills) -> None:
    """Draw one shape with the same geometry on every (draw, fill) pair (image and mask)."""
    for d, fill in zip(draws, fills, strict=True):
        if kind == "circle":
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
        else:
            d.polygon(_polygon(kind, cx, cy, r, rot), fill=fill)


def _background(rng: np.random.Generator, size: int, blobs: bool = True) -> Image.Image:
    """A muted two-colour gradient with noise and (optionally) a few faint blobs."""
    c1 = rng.integers(40, 170, 3)
    c2 = rng.integers(40, 170, 3)
    t = np.linspace(0, 1, size)[None, :, None]
    if rng.random() < 0.5:
        t = t.transpose(1, 0, 2)
    a = c1 * (1 - t) + c2 * t
    a = np.broadcast_to(a, (size, size, 3)).copy()
    a += rng.normal(0, 12, a.shape)
    im = Image.fromarray(a.clip(0, 255).astype(np.uint8))
    d = ImageDraw.Draw(im)
    for _ in range(int(rng.integers(0, 4)) if blobs else 0):
        x, y = rng.uniform(0, size, 2)
        rr = rng.uniform(size * 0.05, size * 0.15)
        near = a[int(y) % size, int(x) % size] + rng.normal(0, 20, 3)
        col = tuple(int(v) for v in near.clip(0, 255))
        d.ellipse([x - rr, y - rr, x + rr, y + rr], fill=col)
    return im


def _colour(rng: np.random.Generator, kind: str) -> tuple[int, int, int]:
    base = np.array(_HUES[kind], dtype=float)
    return tuple(int(v) for v in (base + rng.normal(0, 12, 3)).clip(0, 255))


def _place(rng, size, n, rmin, rmax, tries=60):
    """Up to n non-overlapping circles (cx, cy, r) inside the image."""
    placed: list[tuple[float, float, float]] = []
    for _ in range(n):
        for _ in range(tries):
            r = rng.uniform(rmin, rmax) * size
            cx, cy = rng.uniform(r + 1, size - r - 1, 2)
            if all(math.hypot(cx - x, cy - y) > r + rr + 2 for x, y, rr in placed):
                placed.append((cx, cy, r))
                break
    return placed


def _sample(rng, task: str, size: int) -> tuple[list[str], list[tuple[float, float, float]]]:
    """Which shapes an image holds and where."""
    if task == "classification":
        kinds = [SHAPES[int(rng.integers(len(SHAPES)))]]
        return kinds, _place(rng, size, 1, 0.22, 0.36)
    if task == "regression":
        n = int(rng.integers(1, 6))
        spots = _place(rng, size, n, 0.08, 0.14)
        return [SHAPES[int(rng.integers(len(SHAPES)))] for _ in spots], spots
    # multilabel / segmentation: 1-3 distinct shapes
    n = int(rng.integers(1, 4))
    kinds = list(rng.choice(SHAPES, size=n, replace=False))
    spots = _place(rng, size, n, 0.14, 0.24)
    return [str(k) for k in kinds[: len(spots)]], spots


def create_demo_project(
    path: str | os.PathLike,
    task: str = "classification",
    n: int = 300,
    seed: int = 0,
    size: int = 96,
) -> Project:
    """Make a new project at `path` holding `n` generated, labelled images (80/20 split)."""
    if task not in TASKS:
        raise ProjectError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")
    if n < 1 or size < 16:
        raise ProjectError("A demo project needs at least 1 image of at least 16 pixels.")
    project = Project.create(
        path, task, targets=["count"] if task == "regression" else (), name=f"Demo ({task})"
    )
    if task == "segmentation":
        project.ensure_classes([BACKGROUND, *SHAPES])  # position = mask value
    elif task != "regression":
        project.ensure_classes(SHAPES)
    seg_value = {k: i + 1 for i, k in enumerate(SHAPES)}
    class_at = {c.position: c.name for c in project.classes()}  # mask value -> class
    rng = np.random.default_rng(seed)
    prng = random.Random(seed)
    items: list[NewImage] = []
    for i in range(n):
        kinds, spots = _sample(rng, task, size)
        kinds = kinds[: len(spots)]
        im = _background(rng, size, blobs=task != "regression")  # blobs would blur a count
        mask = Image.new("L", (size, size), 0) if task == "segmentation" else None
        draws = [ImageDraw.Draw(im)] + ([ImageDraw.Draw(mask)] if mask is not None else [])
        for kind, (cx, cy, r) in zip(kinds, spots, strict=True):
            fills = [_colour(rng, kind)] + ([seg_value[kind]] if mask is not None else [])
            _draw_shape(draws, kind, cx, cy, r, prng.uniform(0, 2 * math.pi), fills)
        name = f"{task[:3]}_{i:04d}_{'-'.join(sorted(set(kinds)))}.png"
        buf = io.BytesIO()
        im.save(buf, "PNG", compress_level=1)
        data = buf.getvalue()
        (project.path / "images" / name).write_bytes(data)
        mask_rel = None
        labels = sorted(set(kinds)) if task in ("classification", "multilabel") else []
        if mask is not None:
            mask_rel = f"masks/{name}"
            mask.save(project.path / mask_rel, "PNG", compress_level=1)
            labels = [class_at[v] for v in mask_values(np.asarray(mask))]  # classes present
        items.append(
            NewImage(
                file=f"images/{name}",
                name=name,
                source="demo",
                sha1=hashlib.sha1(data).hexdigest(),
                width=size,
                height=size,
                labels=labels,
                values=[float(len(kinds))] if task == "regression" else None,
                mask=mask_rel,
            )
        )
    project.add_images(items)
    project.assign_splits(valid_pct=0.2, seed=seed)
    return project

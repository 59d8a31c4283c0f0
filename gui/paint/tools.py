"""Pixel-exact mask painting: brush strokes, flood fill and polygons on an HxW uint8 mask.

Pure numpy (+ Pillow for polygon rasterisation), no Qt, so it is easy to test. Every function
returns the box it touched, (y0, x0, y1, x1), so the canvas redraws only those pixels. Points are
image (scene) coordinates in pixels; a point inside pixel (i, j) always paints that pixel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

Box = tuple[int, int, int, int]  # y0, x0, y1, x1 (end exclusive)
EMPTY: Box = (0, 0, 0, 0)


def union(a: Box, b: Box) -> Box:
    if a[2] <= a[0] or a[3] <= a[1]:
        return b
    if b[2] <= b[0] or b[3] <= b[1]:
        return a
    return min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])


def snap(x: float, y: float) -> tuple[float, float]:
    """The centre of the pixel under (x, y): brush discs are centred on whole pixels."""
    return np.floor(x) + 0.5, np.floor(y) + 0.5


def stroke(
    mask: np.ndarray, p0: tuple[float, float], p1: tuple[float, float], size: int, value: int
) -> Box:
    """Paint a line of width `size` px with round ends from p0 to p1 (x, y); returns the box.

    A pixel is painted when its centre lies within size/2 of the segment (size 1: one pixel wide).
    """
    h, w = mask.shape
    (ax, ay), (bx, by) = snap(*p0), snap(*p1)
    r = max(0.5, size / 2.0)
    x0, x1 = int(max(0, np.floor(min(ax, bx) - r))), int(min(w, np.ceil(max(ax, bx) + r)))
    y0, y1 = int(max(0, np.floor(min(ay, by) - r))), int(min(h, np.ceil(max(ay, by) + r)))
    if x1 <= x0 or y1 <= y0:
        return EMPTY
    px = np.arange(x0, x1, dtype=np.float32)[None, :] + 0.5
    py = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5
    dx, dy = bx - ax, by - ay
    seg2 = dx * dx + dy * dy
    if seg2 > 0:
        t = np.clip(((px - ax) * dx + (py - ay) * dy) / seg2, 0.0, 1.0)
        cx, cy = ax + t * dx, ay + t * dy
    else:
        cx, cy = ax, ay
    inside = (px - cx) ** 2 + (py - cy) ** 2 <= r * r + 1e-6
    if size <= 1:  # at least the pixels under the path, even when it runs diagonally
        inside |= (np.abs(px - cx) <= 0.5) & (np.abs(py - cy) <= 0.5)
    mask[y0:y1, x0:x1][inside] = value
    return y0, x0, y1, x1


def flood(mask: np.ndarray, x: float, y: float, value: int, within=None) -> Box:
    """Fill the 4-connected region of equal values under (x, y) with `value`; returns its box.
    `within` (a bool array like the mask) limits the region further (see `similar_colour`).

    Run-based: each row is split into runs of the seed value, and runs that overlap a filled run
    in the next or previous row join the region, so big regions cost rows, not pixels.
    """
    h, w = mask.shape
    xi, yi = int(np.floor(x)), int(np.floor(y))
    if not (0 <= xi < w and 0 <= yi < h):
        return EMPTY
    old = int(mask[yi, xi])
    if old == value:
        return EMPTY
    same = mask == old
    if within is not None:
        same &= within
    runs: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def row_runs(r: int) -> tuple[np.ndarray, np.ndarray]:
        if r not in runs:
            edges = np.diff(np.concatenate(([0], same[r].view(np.int8), [0])))
            runs[r] = (np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))
        return runs[r]

    starts, ends = row_runs(yi)
    i = int(np.searchsorted(starts, xi, side="right") - 1)
    todo, done = [(yi, i)], {(yi, i)}
    box = EMPTY
    while todo:
        r, i = todo.pop()
        s, e = (int(v[i]) for v in row_runs(r))
        box = union(box, (r, s, r + 1, e))
        for nr in (r - 1, r + 1):
            if 0 <= nr < h:
                ns, ne = row_runs(nr)
                lo = int(np.searchsorted(ne, s, side="right"))  # first run ending after s
                hi = int(np.searchsorted(ns, e, side="left"))  # runs starting before e
                for j in range(lo, hi):
                    if (nr, j) not in done:
                        done.add((nr, j))
                        todo.append((nr, j))
    for r, j in done:
        s, e = runs[r][0][j], runs[r][1][j]
        mask[r, s:e] = value
    return box


def polygon(mask: np.ndarray, points: Sequence[tuple[float, float]], value: int) -> Box:
    """Fill the polygon through `points` (x, y; at least three) with `value`; returns its box."""
    if len(points) < 3:
        return EMPTY
    h, w = mask.shape
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    x0, y0 = max(0, int(np.floor(min(xs)))), max(0, int(np.floor(min(ys))))
    x1, y1 = min(w, int(np.ceil(max(xs))) + 1), min(h, int(np.ceil(max(ys))) + 1)
    if x1 <= x0 or y1 <= y0:
        return EMPTY
    im = Image.new("L", (x1 - x0, y1 - y0), 0)
    # Pillow fills pixels whose centres are inside; shift so pixel centres sit at +0.5
    ImageDraw.Draw(im).polygon([(px - x0 - 0.5, py - y0 - 0.5) for px, py in points], fill=1)
    inside = np.asarray(im, dtype=bool)
    mask[y0:y1, x0:x1][inside] = value
    return y0, x0, y1, x1


FILL_TOLERANCE = 40  # per RGB channel: how far a pixel may be from the clicked one's colour


def similar_colour(rgb: np.ndarray, x: float, y: float, tol: int = FILL_TOLERANCE) -> np.ndarray:
    """Pixels of `rgb` (HxWx3) whose colour is within `tol` of the pixel at (x, y): where a fill
    on a still unlabeled (ignore) part of the mask may go, so a fill on a new, empty mask takes
    the clicked object, not the whole image."""
    h, w = rgb.shape[:2]
    xi, yi = min(max(int(np.floor(x)), 0), w - 1), min(max(int(np.floor(y)), 0), h - 1)
    seed = rgb[yi, xi].astype(np.int16)
    return np.abs(rgb.astype(np.int16) - seed).max(axis=2) <= tol

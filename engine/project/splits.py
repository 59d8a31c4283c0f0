"""Seeded, stratified assignment of images to train/valid/test (a pure function).

Used by `engine.project.store.Project.assign_splits`, which reads the rows and writes the result.
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence


def assign_splits(
    task: str,
    rows: Sequence[tuple[int, str | None]],
    labels: Mapping[int, str],
    valid_pct: float,
    test_pct: float,
    seed: int,
) -> list[tuple[str, int]]:
    """(split, image id) for each of `rows` ((id, JSON targets or None), in id order).

    Stratified by `labels` (an image's class names joined by "|", in class order) for the
    class tasks, and by quantile bins of the first target for regression. Each group is
    shuffled with a Random(seed); a group of two or more gets at least one validation image
    when valid_pct > 0. Multi-label and segmentation (many one-of-a-kind label sets) are topped
    up to the overall shares. Deterministic for a given seed.
    """
    groups: dict[str, list[int]] = {}
    if task == "regression":
        vals = sorted((json.loads(v)[0], i) for i, v in rows if v)
        nbins = max(1, min(10, len(vals) // 10))
        for rank, (_, i) in enumerate(vals):
            groups.setdefault(f"bin{rank * nbins // max(1, len(vals))}", []).append(i)
        for i, v in rows:
            if not v:
                groups.setdefault("none", []).append(i)
    else:
        for i, _ in rows:
            groups.setdefault(labels.get(i, ""), []).append(i)
    rng = random.Random(seed)
    keys = sorted(groups)
    n_test: dict[str, int] = {}
    n_valid: dict[str, int] = {}
    for key in keys:
        members = groups[key]
        rng.shuffle(members)
        n = len(members)
        n_test[key] = round(n * test_pct)
        n_valid[key] = round(n * valid_pct)
        if n >= 2 and valid_pct > 0 and n_valid[key] == 0:
            n_valid[key] = 1
    if task in ("multilabel", "segmentation"):
        # label sets are often one of a kind (a mask's classes): groups of one would all train
        # and the validation share fall far short, so top both shares up to their totals
        total = sum(len(m) for m in groups.values())
        _top_up(groups, n_test, n_valid, test_pct, round(total * test_pct), rng)
        _top_up(groups, n_valid, n_test, valid_pct, round(total * valid_pct), rng)
    assignment: list[tuple[str, int]] = []
    for key in keys:
        t, v = n_test[key], n_valid[key]
        for k, i in enumerate(groups[key]):
            s = "test" if k < t else "valid" if k < t + v else "train"
            assignment.append((s, i))
    return assignment


def _top_up(
    groups: Mapping[str, list[int]],
    alloc: dict[str, int],
    other: Mapping[str, int],
    pct: float,
    want: int,
    rng: random.Random,
) -> None:
    """Add to `alloc` until it sums to `want`: one more image at a time from the groups furthest
    below their share (pct of their size), seeded ties; `other` is the other split's take."""
    order = sorted(alloc, key=lambda k: (alloc[k] - len(groups[k]) * pct, rng.random()))
    while sum(alloc.values()) < want:
        free = [k for k in order if len(groups[k]) - alloc[k] - other[k] > 0]
        if not free:
            return
        for k in free[: want - sum(alloc.values())]:
            alloc[k] += 1

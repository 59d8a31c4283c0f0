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
    when valid_pct > 0. Deterministic for a given seed.
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
    assignment: list[tuple[str, int]] = []
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        n = len(members)
        n_test = round(n * test_pct)
        n_valid = round(n * valid_pct)
        if n >= 2 and valid_pct > 0 and n_valid == 0:
            n_valid = 1
        for k, i in enumerate(members):
            s = "test" if k < n_test else "valid" if k < n_test + n_valid else "train"
            assignment.append((s, i))
    return assignment

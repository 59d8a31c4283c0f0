"""What to label next: rank unlabeled images by how unsure the trained model is about them.

Scores (higher = more uncertain, so better to label next):
- classification: "margin" = 1 - (p_top1 - p_top2), or "entropy" of the class probabilities
  (divided by log k, so 0..1);
- multi-label: mean binary entropy over labels (0..1);
- segmentation: mean per-pixel entropy of the class probabilities (0..1).
`scores(probs, task, method)` is the pure numpy part (the active-learning benchmark uses it);
`rank_items(predictor, [(id, path)])` runs the model over images (batched, cancellable) and
`rank_unlabeled(project, predictor)` over a project's unlabeled images.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

METHODS = ("margin", "entropy")


def _entropy(p: np.ndarray, axis: int) -> np.ndarray:
    p = np.clip(p, 1e-12, 1.0)
    return -(p * np.log(p)).sum(axis=axis)


def scores(probs: np.ndarray, task: str, method: str = "margin") -> np.ndarray:
    """Uncertainty per image of model outputs `probs`: (N, C) for classification (softmax) and
    multi-label (sigmoid), (N, C, H, W) per-pixel softmax for segmentation."""
    p = np.asarray(probs, dtype=np.float64)
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got {method!r}).")
    if task == "classification":
        k = p.shape[1]
        if k < 2:
            return np.zeros(len(p))
        if method == "margin":
            top2 = np.sort(p, axis=1)[:, -2:]
            return 1.0 - (top2[:, 1] - top2[:, 0])
        return _entropy(p, 1) / np.log(k)
    if task == "multilabel":
        q = np.stack([p, 1 - p], axis=-1)
        return _entropy(q, -1).mean(axis=1) / np.log(2)
    if task == "segmentation":
        k = p.shape[1]
        return _entropy(p, 1).mean(axis=(1, 2)) / np.log(max(k, 2))
    raise ValueError(f"Uncertainty ranking is not defined for {task} models.")


def rank_unlabeled(
    project,
    predictor,
    *,
    method: str = "margin",
    control=None,
    on_progress: Callable[[int, int], None] | None = None,
    batch_size: int = 16,
) -> list[tuple[int, float]]:
    """(image id, uncertainty) of the project's unlabeled images, most uncertain first.
    Unreadable images are left out. `control.check()` runs per batch (pause / cancel)."""

    if predictor.task == "regression":
        raise ValueError("Uncertainty ranking needs a classification, multi-label or "
                         "segmentation model.")  # fmt: skip
    recs = project.images(project.query(unlabeled=True))
    items = [(r.id, str(project.image_path(r))) for r in recs]
    return rank_items(
        predictor,
        items,
        method=method,
        control=control,
        on_progress=on_progress,
        batch_size=batch_size,
    )


def rank_items(
    predictor,
    items: list[tuple[int, str]],
    *,
    method: str = "margin",
    control=None,
    on_progress: Callable[[int, int], None] | None = None,
    batch_size: int = 16,
) -> list[tuple[int, float]]:
    """(id, uncertainty) of `items` ((id, image path)), most uncertain first; images that
    cannot be read are left out. `control.check()` runs per batch (pause / cancel)."""
    from engine.imaging import BadImage

    out: list[tuple[int, float]] = []
    for start in range(0, len(items), batch_size):
        if control is not None:
            control.check()
        xs, ids = [], []
        for iid, path in items[start : start + batch_size]:
            try:
                xs.append(predictor.prepare(path)[0])
                ids.append(iid)
            except (BadImage, OSError):
                continue
        if xs:
            probs = predictor.forward(np.stack(xs), tta=False).numpy()
            out += zip(ids, scores(probs, predictor.task, method).tolist(), strict=True)
        if on_progress is not None:
            on_progress(min(start + batch_size, len(items)), len(items))
    out.sort(key=lambda kv: -kv[1])
    return out

"""Model help for the mask editor, run on the bridge's worker thread (plain values out).

`predicted_mask_job`: the trained model's mask for one image, to start painting from.
`least_certain_job`: among unlabeled images, the one whose prediction has the highest mean
pixel entropy (normalised to 0-1 by log of the class count), i.e. where a label helps most.
The Predictor is cached per model file (path and modification time), so a retrain is picked up.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from engine.events import Progress

BATCH = 8


def _predictor(cache: dict, project_path: str):
    from engine.predict.predictor import Predictor, resolve_model_path

    path = resolve_model_path(project_path)
    key = (str(path), path.stat().st_mtime_ns if path.exists() else 0)
    if cache.get("key") != key:
        cache["predictor"] = Predictor.from_path(project_path)
        cache["key"] = key
    return cache["predictor"]


def has_model(project_path: str | Path) -> bool:
    """Whether the project has a model in use (engine.models.checkpoint decides which file)."""
    from engine.models.checkpoint import model_in_use_file

    return model_in_use_file(project_path) is not None


def predicted_mask_job(job, project_path: str, image_id: int, image_path: str, cache: dict):
    """(image_id, HxW uint8 mask at the image's size) predicted by the project's model."""
    pred = _predictor(cache, project_path).predict(image_path)
    return image_id, pred.mask


def mean_entropy(probs) -> np.ndarray:
    """Mean per-pixel entropy of N x C x H x W class probabilities, as a fraction of log(C)."""
    p = np.clip(np.asarray(probs, np.float32), 1e-7, 1.0)
    ent = -(p * np.log(p)).sum(axis=1).mean(axis=(1, 2))
    return ent / math.log(max(2, p.shape[1]))


def least_certain_job(job, project_path: str, items: list[tuple[int, str]], cache: dict):
    """(image_id, entropy) of the least certain image among `items` ((id, path)); None if no
    image could be read. Unreadable images are passed over."""
    from engine.imaging import BadImage

    predictor = _predictor(cache, project_path)
    best: tuple[int, float] | None = None
    for start in range(0, len(items), BATCH):
        job.control.check()
        xs, ids = [], []
        for iid, path in items[start : start + BATCH]:
            try:
                xs.append(predictor._prepare(path)[0])
                ids.append(iid)
            except BadImage:
                continue
        if xs:
            ent = mean_entropy(predictor._forward(np.stack(xs), tta=False).numpy())
            i = int(np.argmax(ent))
            if best is None or float(ent[i]) > best[1]:
                best = (ids[i], float(ent[i]))
        job.emit(Progress(min(len(items), start + BATCH), len(items), "images"))
    return best

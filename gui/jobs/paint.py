"""Model help for the mask editor, run on the bridge's worker thread (plain values out).

`predicted_mask_job`: the trained model's mask for one image, to start painting from.
`least_certain_job`: among unlabeled images, the one whose prediction has the highest mean
pixel entropy (normalised to 0-1 by log of the class count), i.e. where a label helps most.
The Predictor is cached per model file (path and modification time), so a retrain is picked up.
"""

from __future__ import annotations

from pathlib import Path

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


def least_certain_job(job, project_path: str, items: list[tuple[int, str]], cache: dict):
    """(image_id, uncertainty) of the least certain image among `items` ((id, path)) by the
    engine's ranking (engine.interpret.uncertainty: mean pixel entropy for masks); None if no
    image could be read. Unreadable images are passed over."""
    from engine.interpret.uncertainty import rank_items

    ranked = rank_items(
        _predictor(cache, project_path),
        items,
        control=job.control,
        on_progress=lambda d, t: job.emit(Progress(d, t, "images")),
        batch_size=BATCH,
    )
    return ranked[0] if ranked else None

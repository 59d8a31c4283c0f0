"""The heatmap job: Grad-CAM of one image for one class, on the bridge's worker thread."""

from __future__ import annotations


def heatmap_job(job, project_path: str, path: str, class_name: str | None, cache: dict):
    """(path, class name, HxW 0..1 map) for `class_name`, or the predicted class when None.
    Reuses the Predictor the Predict page keeps in `cache`."""
    from engine.interpret.gradcam import explain
    from gui.jobs.predict import _predictor

    job.control.check()
    predictor = _predictor(cache, project_path)
    heat = explain(predictor, path, classes=[class_name] if class_name else [])
    name = class_name or next(iter(heat.maps))
    return path, name, heat.maps[name]

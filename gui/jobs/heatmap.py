"""The heatmap job: Grad-CAM of one image for one class, on the bridge's worker thread."""

from __future__ import annotations


def heatmap_job(job, project_path: str, path: str, class_name: str | None, cache: dict):
    """(path, class asked for, class mapped, HxW 0..1 map) for `class_name`, or for the
    predicted class when None. The Predictor is kept in `cache` per model file, so a page
    loads the model once and a retrained one is picked up."""
    from engine.interpret.gradcam import explain
    from gui.jobs.paint import _predictor

    job.control.check()
    predictor = _predictor(cache, project_path)
    heat = explain(predictor, path, classes=[class_name] if class_name else [])
    name = class_name or next(iter(heat.maps))
    return path, class_name, name, heat.maps[name]

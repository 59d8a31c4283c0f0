"""Which model file a project uses now, as a key that changes when the model is retrained, so
views that keep results computed by the model (heatmaps, uncertainty rankings) know when to
drop them. A stat, no torch: cheap enough for the GUI thread."""

from __future__ import annotations


def model_key(project) -> tuple[str, int] | None:
    """The model in use of `project` as (file, modification time), or None without a model."""
    from engine.models.checkpoint import model_in_use_file

    path = model_in_use_file(project.path) if project is not None else None
    if path is None:
        return None
    try:
        return str(path), path.stat().st_mtime_ns
    except OSError:
        return None

"""The import job: one of `engine.imports.api`'s importers on the bridge's thread, with cancel
and progress wired in (the GUI side, dialogs and reports, is gui.data.import_flow)."""

from __future__ import annotations


def _progress_sink(job):
    """An on_progress callback that forwards engine progress as plain events."""

    from engine.events import Progress

    def sink(*args) -> None:
        if len(args) == 1 and isinstance(args[0], Progress):
            job.emit(args[0])
        elif len(args) >= 2:
            job.emit(Progress(int(args[0]), int(args[1]), str(args[2]) if len(args) > 2 else ""))

    return sink


def run_import(job, project, kind: str, *args, **kwargs):
    """Call ``engine.imports.api.<kind>(project, *args, **kwargs)``; returns its ImportReport."""
    from engine.imports import api as importers

    fn = getattr(importers, kind)
    return fn(project, *args, control=job.control, on_progress=_progress_sink(job), **kwargs)

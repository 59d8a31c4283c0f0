"""The import job: one of `engine.imports.api`'s importers on the bridge's thread, with cancel
and progress wired in (the GUI side, dialogs and reports, is gui.imports). The GUI hands over
the importer function itself, never its name."""

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


def load_importers():
    """engine.imports.api (numpy and Pillow come with it): loaded on first use, not at start-up;
    the bridge's thread loads it ahead (gui.imports.flow) so the GUI thread does not wait."""
    from engine.imports import api

    return api


def run_import(job, project, importer, *args, **kwargs):
    """``importer(project, *args, **kwargs)``, one of engine.imports.api's importers, with the
    job's cancel and progress; returns its ImportReport."""
    return importer(project, *args, control=job.control, on_progress=_progress_sink(job), **kwargs)

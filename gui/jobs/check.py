"""Data-check jobs on the bridge's worker thread: the check itself and its thumbnails."""

from __future__ import annotations

from engine.events import Progress


def check_job(job, project, training_labels: bool = False):
    """engine.check.checks.run_check with the bridge's pause / cancel and progress events
    (`training_labels`: the model also checks the training images' labels)."""
    from engine.check.checks import run_check

    def progress(done: int, total: int, text: str) -> None:
        job.emit(Progress(done, total, f"{text}: {done} of {total}" if total else text))

    return run_check(
        project, control=job.control, on_progress=progress, training_labels=training_labels
    )


def thumbnails_lookup(project, ids: list[int], size: int = 128) -> list[tuple[int, str, str]]:
    """(id, thumbnail path or "", file name) per id: a read-only lookup for bridge.call."""
    from engine.imaging import BadImage
    from engine.project.thumbnails import thumbnail

    out = []
    for rec in project.images(ids):
        try:
            out.append((rec.id, str(thumbnail(project, rec, size)), rec.name))
        except (BadImage, OSError):
            out.append((rec.id, "", rec.name))
    return out

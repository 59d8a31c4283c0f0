"""What the main window's status bar says about the open project (the running job's text is
gui.jobs.names.job_text)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gui.start.page import TASK_TEXTS

if TYPE_CHECKING:
    from engine.project.store import Project

NO_PROJECT_TEXT = "No project open — open the demo or drop a folder of images"


def project_summary(p: Project | None) -> str:
    """One line: name · task · image count · unlabeled · classes."""
    if p is None:
        return NO_PROJECT_TEXT
    c = p.counts()
    task = TASK_TEXTS.get(p.task, (p.task, ""))[0]
    parts = [p.name, task, f"{c.total} image{'s' if c.total != 1 else ''}"]
    if c.total:
        parts.append(f"{c.unlabeled} unlabeled")
    if p.task in ("classification", "multilabel", "segmentation"):
        n = len(c.per_class)
        parts.append(f"{n} class{'es' if n != 1 else ''}")
    if p.read_only:
        parts.append("read-only")
    return "  ·  ".join(parts)

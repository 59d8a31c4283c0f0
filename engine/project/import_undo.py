"""Undoing an import as one history step: the images it added leave the project the way a
removal takes them (rows out, the project's copies to its trash, engine.project.removal), and
the classes it created go with them when no image uses them any more. Redo puts the classes
back first, then the same images with the same ids. The user's originals are never touched.

`ImportMark` is taken before an import starts; `ImportMark.added(project)` then says what the
import added, also when it was cancelled halfway (ids only grow, so "newer than the mark" is
exactly what came in).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.project.store import Project


def _images(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n} images"


@dataclass(frozen=True)
class ImportMark:
    """The project just before an import: its highest image id and its class names."""

    last_id: int
    classes: tuple[str, ...]

    @classmethod
    def take(cls, project: Project) -> ImportMark:
        ids = project.query()
        return cls(max(ids, default=0), tuple(project.class_names()))

    def added(self, project: Project) -> tuple[list[int], list[str]]:
        """(ids of the images added since the mark, names of the classes created since)."""
        ids = [i for i in project.query() if i > self.last_id]
        new = [n for n in project.class_names() if n not in self.classes]
        return ids, new


class ImportStep:
    """One import in the undo history: undo removes what it added, redo brings it back."""

    def __init__(self, project: Project, ids: list[int], new_classes: list[str], source: str = ""):
        self.project, self.ids = project, list(ids)
        self.new_classes = list(new_classes)
        where = f" from {source}" if source else ""
        self.text = f"import {_images(len(self.ids))}{where}"
        self.removal = None  # set while undone: the images wait in the project's trash
        self.colors: dict[str, str] = {}

    def undo(self) -> None:
        p = self.project
        self.removal = p.remove_images(self.ids)
        if p.task == "segmentation":
            return  # mask values, not labels: a segmentation project keeps its class list
        used = {n for n, k in p.counts().per_class.items() if k}
        by_name = {c.name: c for c in p.classes()}
        for name in self.new_classes:
            info = by_name.get(name)
            if info is not None and name not in used:
                self.colors[name] = info.color
                p.delete_class(name)

    def redo(self) -> None:
        p = self.project
        if p.task != "segmentation":
            have = set(p.class_names())
            for name in self.new_classes:
                if name not in have:
                    p.add_class(name, self.colors.get(name))
        if self.removal is not None:
            p.restore_images(self.removal)
            self.removal = None

    def discard(self) -> None:
        """The step leaves the history: an undone import's copies are deleted for good."""
        if self.removal is not None:
            self.project.purge_removal(self.removal)
            self.removal = None

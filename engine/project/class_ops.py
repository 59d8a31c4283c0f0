"""The class list of a project: add, rename, recolour, delete, merge (part of `Project`).

A mixin of `engine.project.store.Project`, kept apart so the store stays readable; it uses the
store's `_db`, `_lock` and `_changed` and never stands alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from engine.errors import ProjectError
from engine.project.records import ClassInfo, default_color


class ClassOps:
    """Class-list methods of `Project` (see engine.project.store)."""

    def classes(self) -> list[ClassInfo]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, name, color, position FROM classes ORDER BY position, id"
            ).fetchall()
        return [ClassInfo(*r) for r in rows]

    def class_names(self) -> list[str]:
        return [c.name for c in self.classes()]

    def _class_id(self, name: str) -> int:
        row = self._db.execute("SELECT id FROM classes WHERE name=?", (name,)).fetchone()
        if row is None:
            raise ProjectError(f"There is no class named {name!r}.")
        return row[0]

    def add_class(self, name: str, color: str | None = None) -> ClassInfo:
        name = name.strip()
        if not name:
            raise ProjectError("A class needs a name.")
        with self._lock, self._db:
            if self._db.execute("SELECT 1 FROM classes WHERE name=?", (name,)).fetchone():
                raise ProjectError(f"A class named {name!r} already exists.")
            pos = self._db.execute("SELECT COALESCE(MAX(position)+1, 0) FROM classes").fetchone()[0]
            color = color or default_color(pos)
            cur = self._db.execute(
                "INSERT INTO classes(name, color, position) VALUES (?,?,?)", (name, color, pos)
            )
            info = ClassInfo(cur.lastrowid, name, color, pos)
        self._changed("classes")
        return info

    def ensure_classes(self, names: Iterable[str]) -> None:
        existing = set(self.class_names())
        for n in names:
            if n not in existing:
                self.add_class(n)
                existing.add(n)

    def rename_class(self, old: str, new: str) -> None:
        new = new.strip()
        if not new:
            raise ProjectError("A class needs a name.")
        with self._lock, self._db:
            cid = self._class_id(old)
            if (
                new != old
                and self._db.execute("SELECT 1 FROM classes WHERE name=?", (new,)).fetchone()
            ):
                raise ProjectError(f"A class named {new!r} already exists; merge them instead.")
            self._db.execute("UPDATE classes SET name=? WHERE id=?", (new, cid))
        self._changed("classes")

    def recolor_class(self, name: str, color: str) -> None:
        with self._lock, self._db:
            self._db.execute("UPDATE classes SET color=? WHERE id=?", (color, self._class_id(name)))
        self._changed("classes")

    def delete_class(self, name: str) -> None:
        """Remove a class; its images become unlabeled (images themselves stay)."""
        if self.task == "segmentation":
            raise ProjectError("Segmentation classes are mask values; merge them instead.")
        with self._lock, self._db:
            self._db.execute("DELETE FROM classes WHERE id=?", (self._class_id(name),))
        self._changed("classes")
        self._changed("labels", None)

    def merge_classes(self, sources: Sequence[str], target: str) -> None:
        """Move every label of `sources` onto `target` (created if needed), then drop sources."""
        if self.task == "segmentation":
            raise ProjectError("Segmentation classes are mask values; they cannot be merged.")
        if target not in self.class_names():
            self.add_class(target)
        with self._lock, self._db:
            tid = self._class_id(target)
            for s in sources:
                if s == target:
                    continue
                sid = self._class_id(s)
                self._db.execute(
                    "INSERT OR IGNORE INTO labels(image_id, class_id) "
                    "SELECT image_id, ? FROM labels WHERE class_id=?",
                    (tid, sid),
                )
                self._db.execute("DELETE FROM classes WHERE id=?", (sid,))
        self._changed("classes")
        self._changed("labels", None)

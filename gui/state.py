"""What the window and its pages share: the open project, its undo history, and the relay that
brings the project's change events to the GUI thread.

Pages receive one `AppState` and listen to it instead of reaching into each other or into the
window. Opening a project (`set_project`) starts a fresh undo history and tells every listener
through `project_changed`; who opens and closes project files is gui.window.projects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from engine.project.history import History
    from engine.project.store import Project


class AppState(QObject):
    """The open project (or None), its undo history, and change notifications."""

    project_changed = Signal(object)  # the Project now shown, or None
    changed = Signal(str, object)  # kind, ids: a project change, delivered on the GUI thread
    history_changed = Signal()  # undo / redo availability may have changed
    message = Signal(str)  # a short status-bar message (what was undone, why it could not be)
    show_page = Signal(str)  # bring the page with this title forward (e.g. "Train", to offer it)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._project: Project | None = None
        self._history: History | None = None

    @property
    def project(self) -> Project | None:
        return self._project

    @property
    def history(self) -> History | None:
        """Undo / redo of label, value and split changes on the open project."""
        return self._history

    def set_project(self, project: Project | None) -> None:
        """Show `project` everywhere (None: nothing open), with a new, empty undo history.
        Closing the previous project is the caller's business."""
        from engine.project.history import History

        if self._project is not None:
            self._project.unsubscribe(self._relay)
        self._project = project
        self._history = History(project) if project is not None else None
        if project is not None:
            project.subscribe(self._relay)
        self.project_changed.emit(project)
        self.history_changed.emit()

    def _relay(self, kind: str, ids) -> None:
        # called on whichever thread changed the project; a listener on the GUI thread gets
        # the signal queued (or at once, when the change was made on the GUI thread)
        self.changed.emit(kind, ids)

    def refuse_change(self) -> str:
        """Why the open project cannot be changed ("" when it can): a read-only project is
        browsed, evaluated and used for prediction, never changed."""
        from engine.project.db import READ_ONLY

        p = self._project
        return READ_ONLY.format(path=p.path) if p is not None and p.read_only else ""

    # ------------------------------------------------------------------ undoable edits
    def edit(self, change: Callable[[History], None]) -> None:
        """Make one undoable change, `change(history)`; a ProjectError propagates."""
        if self._history is None:
            return
        try:
            change(self._history)
        finally:
            self.history_changed.emit()

    def undo(self) -> None:
        self._step(back=True)

    def redo(self) -> None:
        self._step(back=False)

    def _step(self, back: bool) -> None:
        from engine.project.store import ProjectError

        if self._history is None:
            return
        try:
            text = self._history.undo() if back else self._history.redo()
        except ProjectError as e:
            self.message.emit(f"Cannot {'undo' if back else 'redo'}: {e}")
            return
        finally:
            self.history_changed.emit()
        if text:
            self.message.emit(f"{'Undid' if back else 'Redid'}: {text}")

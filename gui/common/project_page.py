"""What every project page (Data, Train, Evaluate, Predict) shares: the app state it listens to,
the open project, and `set_project`. The window opens projects through the state
(gui.state.AppState); each page shows a project in its own `_show_project(project)`."""

from __future__ import annotations

from gui.state import AppState


class ProjectPage:
    """Mixin for a QWidget page (listed before QWidget in its bases)."""

    def _use_state(self, state: AppState | None) -> None:
        """Share `state` (a page made alone, e.g. in a test, gets its own)."""
        self.state = state if state is not None else AppState(self)

    def _follow_project(self) -> None:
        """Show the open project now and whenever another one is opened (or none)."""
        self.state.project_changed.connect(self._show_project)
        self._show_project(self.state.project)

    @property
    def project(self):
        return self.state.project

    def set_project(self, project) -> None:
        """Open `project` in this page's state (the window opens projects through its state)."""
        self.state.set_project(project)

    def _show_project(self, project) -> None:  # pragma: no cover - every page defines it
        raise NotImplementedError

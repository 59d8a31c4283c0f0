"""Tools ▸ Check data…: opens the data health check (gui.check.dialog) for the open project.
`CheckAction` takes its menu, the app state, the bridge and the dialog's parent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QWidget

if TYPE_CHECKING:
    from gui.bridge import EngineBridge
    from gui.state import AppState


class CheckAction(QObject):
    """The menu action; one dialog per parent, reused (its last report stays on show)."""

    def __init__(self, menu: QMenu, state: AppState, bridge: EngineBridge, parent: QWidget):
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        self._parent = parent
        self.dialog = None
        self.action = QAction("&Check data…", parent)
        self.action.setStatusTip("Find duplicates, split leakage, imbalance and likely mistakes")
        self.action.triggered.connect(self.open)
        menu.addAction(self.action)
        state.project_changed.connect(self._project_changed)
        self._project_changed(state.project)

    def _project_changed(self, project) -> None:
        self.action.setEnabled(project is not None)
        if self.dialog is not None:
            self.dialog.report = None
            self.dialog.findings.clear()
            self.dialog.close()

    @Slot()
    def open(self):
        from gui.check.dialog import CheckDialog

        if self.state.project is None:
            return None
        if self.dialog is None:
            self.dialog = CheckDialog(self.bridge, self.state, self._parent)
        self.dialog.show()
        self.dialog.raise_()
        if self.dialog.report is None:
            self.dialog.start()
        return self.dialog

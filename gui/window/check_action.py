"""Tools ▸ Check data…: opens the data health check (gui.check.dialog) for the open project."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction


class CheckAction(QObject):
    """The menu action; one dialog per window, reused (its last report stays on show)."""

    def __init__(self, window, menu):
        super().__init__(window)
        self.window = window
        self.dialog = None
        self.action = QAction("&Check data…", window)
        self.action.setStatusTip("Find duplicates, split leakage, imbalance and likely mistakes")
        self.action.triggered.connect(self.open)
        menu.addAction(self.action)
        window.state.project_changed.connect(self._project_changed)
        self._project_changed(window.state.project)

    def _project_changed(self, project) -> None:
        self.action.setEnabled(project is not None)
        if self.dialog is not None:
            self.dialog.report = None
            self.dialog.findings.clear()
            self.dialog.close()

    @Slot()
    def open(self):
        from gui.check.dialog import CheckDialog

        if self.window.project is None:
            return None
        if self.dialog is None:
            self.dialog = CheckDialog(self.window.bridge, self.window.state, self.window)
        self.dialog.show()
        self.dialog.raise_()
        if self.dialog.report is None:
            self.dialog.start()
        return self.dialog

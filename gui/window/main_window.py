"""The main window: assembles the start page and the project pages, owns the bridge and the
open Project, and wires menus, drops and the status bar. No engine logic lives here; menus are
built in window_menus, project handling is in window_projects, status texts in window_status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from gui.bridge import EngineBridge
from gui.common import settings
from gui.data.import_flow import ImportFlow, local_paths
from gui.start.page import StartPage
from gui.window.menus import build_menus, show_about, update_actions
from gui.window.projects import APP_NAME, ProjectActions, ProjectNotifier, make_demo
from gui.window.status import DEMO_JOB, JOB_TEXTS, job_text, project_summary

if TYPE_CHECKING:
    from engine.project.store import Project

# older names, kept importable from here
_ProjectNotifier, _make_demo = ProjectNotifier, make_demo
__all__ = ["APP_NAME", "DEMO_JOB", "JOB_TEXTS", "MainWindow"]


class MainWindow(ProjectActions, QMainWindow):
    """Start page when no project is open; the Data page and the training pages when one is."""

    project_opened = Signal(object)  # Project | None

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.setMinimumSize(960, 640)
        self.bridge = EngineBridge(self)
        self.project: Project | None = None
        self.pages: list[QWidget] = []
        self.data_page: QWidget | None = None
        self.last_message: tuple[str, str] = ("", "")  # (title, text) of the last message shown
        self._notifier = ProjectNotifier(self)
        self._notifier.changed.connect(self._on_project_changed)
        self._status_timer = QTimer(self, singleShot=True, interval=150)
        self._status_timer.timeout.connect(self.update_status)

        self.stack = QStackedWidget()
        self.start_page = StartPage()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("pageTabs")
        self.tabs.setDocumentMode(True)
        self.stack.addWidget(self.start_page)
        self.stack.addWidget(self.tabs)
        self.setCentralWidget(self.stack)

        self.imports = ImportFlow(self)
        build_menus(self)
        self.project_label = QLabel()
        self.job_label = QLabel()
        self.job_label.setObjectName("jobLabel")
        self.statusBar().addWidget(self.project_label, 1)
        self.statusBar().addPermanentWidget(self.job_label)
        self.bridge.started.connect(self._on_job_started)
        self.bridge.busy_changed.connect(self._on_busy_changed)
        self.bridge.finished.connect(self._on_job_finished)
        self.bridge.failed.connect(self._on_job_failed)

        sp = self.start_page
        sp.demo_requested.connect(self.open_demo)
        sp.new_requested.connect(self.new_project)
        sp.open_requested.connect(self.choose_project)
        sp.recent_requested.connect(self.open_project)
        if not settings.restore_geometry(self):
            avail = self.screen().availableGeometry()
            self.resize(min(1280, avail.width()), min(800, avail.height()))
        self._update_actions()
        self.update_status()

    # ------------------------------------------------------------------ messages
    def show_message(self, title: str, text: str, warning: bool = True) -> QMessageBox:
        """A window-modal message that does not block the caller (tests read last_message)."""
        self.last_message = (title, text)
        box = QMessageBox(
            QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information,
            title,
            text,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.open()
        return box

    def ask(self, title: str, text: str) -> bool:
        """A blocking yes/no question."""
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    @Slot(str)
    def _page_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 6000)

    # ------------------------------------------------------------------ undo / redo
    def _history(self):
        return getattr(self.data_page, "history", None) if self.project is not None else None

    @Slot()
    def undo(self) -> None:
        """Edit > Undo (Ctrl+Z): the Data page's last label, value or split change."""
        if self.data_page is not None and self.project is not None:
            self.data_page.undo()
        self._update_actions()

    @Slot()
    def redo(self) -> None:
        if self.data_page is not None and self.project is not None:
            self.data_page.redo()
        self._update_actions()

    def _update_actions(self) -> None:
        update_actions(self, self._history())

    # ------------------------------------------------------------------ status
    @Slot(str)
    def _on_project_changed(self, kind: str) -> None:
        self._update_actions()
        self._status_timer.start()

    def update_status(self) -> None:
        self.project_label.setText(project_summary(self.project))

    @Slot(str)
    def _on_job_started(self, name: str) -> None:
        self.job_label.setText(job_text(name))

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy:
            self.job_label.setText("")

    @Slot(str, object)
    def _on_job_finished(self, name: str, result: object) -> None:
        if name == DEMO_JOB:
            self.statusBar().clearMessage()
            self.open_project(str(result))
        self.update_status()

    @Slot(str, str)
    def _on_job_failed(self, name: str, message: str) -> None:
        if name == DEMO_JOB:
            self.statusBar().clearMessage()
            self.show_message("The demo project could not be made", message)

    # ------------------------------------------------------------------ drops
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        if local_paths(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = local_paths(event.mimeData())
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        # handle after the drop returns, so the drag source is not kept waiting on a dialog
        QTimer.singleShot(0, lambda: self.imports.handle_drop(paths))

    # ------------------------------------------------------------------ about / close
    @Slot()
    def about(self) -> None:
        show_about(self)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.bridge.busy:
            name = self.bridge.job_name
            if not self.ask(
                "Stop the running job?",
                f"“{name}” is still running. Stop it and quit? Everything done so far is saved.",
            ):
                event.ignore()
                return
        self.bridge.cancel()
        self.bridge.shutdown(5000)
        settings.save_geometry(self)
        for page in self.pages:
            page.set_project(None)
            # pages with threads of their own (the Data page's thumbnail loader) stop them here
            for owner in (page, getattr(page, "loader", None)):
                stop = getattr(owner, "shutdown", None)
                if callable(stop):
                    stop()
        if self.project is not None:
            self.project.unsubscribe(self._notifier)
            self.project.close()
            self.project = None
        event.accept()

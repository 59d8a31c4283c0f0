"""The main window: assembles the start page and the project pages, owns the bridge and the app
state, and wires menus, drops and the status bar. No engine logic lives here; the menus are
gui.window.menus.Menus (their requests are wired here), projects are opened and closed by
gui.window.projects.ProjectController, the open project and its undo history are
gui.state.AppState, status texts are gui.window.status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Slot
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
from gui.imports.flow import ImportFlow, local_paths
from gui.jobs.names import job_text
from gui.start.page import StartPage
from gui.state import AppState
from gui.window.menus import Menus
from gui.window.projects import ProjectController
from gui.window.shortcuts import WindowShortcuts
from gui.window.status import project_summary

if TYPE_CHECKING:
    from engine.project.store import Project

APP_NAME = "Topdown"


class MainWindow(QMainWindow):
    """Start page when no project is open; the Data page and the training pages when one is."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)
        self.setMinimumSize(960, 640)
        self.bridge = EngineBridge(self)
        self.state = AppState(self)
        self.pages: list[QWidget] = []
        self.data_page: QWidget | None = None
        self.last_message: tuple[str, str] = ("", "")  # (title, text) of the last message shown
        self.projects = ProjectController(
            self,
            self.state,
            self.bridge,
            show_message=self.show_message,
            show_status=self._show_status,
            build_pages=self._ensure_pages,
        )
        # connected before the pages are built: the window switches to the tabs first
        self.state.project_changed.connect(self._on_project_shown)
        self.state.changed.connect(self._on_project_changed)
        self.state.history_changed.connect(self._update_actions)
        self.state.message.connect(self._page_message)
        self.state.show_page.connect(self.show_page)
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

        self.imports = ImportFlow(
            self, self.state, self.bridge, create_project=self.projects.create_project
        )
        self.imports.open_requested.connect(self.projects.open_project)
        self.imports.message.connect(self.show_message)
        self.imports.status_message.connect(self._import_status)
        self.imports.ended.connect(self.update_status)
        self.menus = Menus(self.menuBar(), self.state, self.bridge, self, self.show_message)
        self._wire_menus()
        self.shortcuts = WindowShortcuts(self)  # Ctrl+Z works with a text box focused
        self.project_label = QLabel()
        self.job_label = QLabel()
        self.job_label.setObjectName("jobLabel")
        self.statusBar().addWidget(self.project_label, 1)
        self.statusBar().addPermanentWidget(self.job_label)
        self.bridge.started.connect(self._on_job_started)
        self.bridge.busy_changed.connect(self._on_busy_changed)
        self.bridge.finished.connect(self.update_status)

        sp = self.start_page
        sp.demo_requested.connect(self.projects.open_demo)
        sp.new_requested.connect(self.projects.new_project)
        sp.open_requested.connect(self.projects.choose_project)
        sp.recent_requested.connect(self.projects.open_project)
        if not settings.restore_geometry(self):
            avail = self.screen().availableGeometry()
            self.resize(min(1280, avail.width()), min(800, avail.height()))
        self._update_actions()
        self.update_status()

    @property
    def project(self) -> Project | None:
        return self.state.project

    def _ensure_pages(self) -> None:
        """Build the project pages on first use, so start-up does not pay for them."""
        if self.pages:
            return
        from gui.window.pages import build_pages

        self.pages = build_pages(self.bridge, self.state)
        self.data_page = self.pages[0]
        self.data_page.status_message.connect(self._page_message)
        self.data_page.counts_changed.connect(self.update_status)
        for page in self.pages:
            self.tabs.addTab(page, page.title)

    def _wire_menus(self) -> None:
        """What the menus ask for: projects, imports, the Data page's removal, help, quit."""
        m, projects, imports = self.menus, self.projects, self.imports
        m.new_requested.connect(projects.new_project)
        m.open_requested.connect(projects.choose_project)
        m.recent_requested.connect(projects.open_project)
        m.close_requested.connect(projects.close_project)
        m.import_images_requested.connect(imports.import_images_dialog)
        m.import_csv_requested.connect(imports.import_csv_dialog)
        m.import_regex_requested.connect(imports.import_regex_dialog)
        m.import_segmentation_requested.connect(imports.import_segmentation_dialog)
        m.remove_requested.connect(self._remove_selected)
        m.help_requested.connect(self.show_help)
        m.quit_requested.connect(self.close)
        m.edit_menu.aboutToShow.connect(self._update_actions)

    @Slot()
    def _remove_selected(self) -> None:
        """Edit > Remove from project…: the images selected on the Data page."""
        if self.data_page is not None:
            self.data_page.edits.remove_selected()

    @Slot(str)
    def show_page(self, title: str) -> None:
        """Bring the project page called `title` forward (a page's "train first" offer)."""
        for i, page in enumerate(self.pages):
            if page.title == title:
                self.tabs.setCurrentIndex(i)

    @Slot(object)
    def _on_project_shown(self, project: Project | None) -> None:
        """A project (or none) is now open: every project starts on the Data page."""
        if project is not None:
            self.tabs.setCurrentIndex(0)
            self.stack.setCurrentWidget(self.tabs)
            ro = " — read-only" if project.read_only else ""
            self.setWindowTitle(f"{project.name}{ro} — {APP_NAME}")
        else:
            self.start_page.refresh()
            self.stack.setCurrentWidget(self.start_page)
            self.setWindowTitle(APP_NAME)
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

    @Slot(str)
    def _import_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _show_status(self, text: str) -> None:
        """A status-bar line that stays until replaced ("" clears it)."""
        if text:
            self.statusBar().showMessage(text)
        else:
            self.statusBar().clearMessage()

    # ------------------------------------------------------------------ menus
    @Slot()
    def _update_actions(self) -> None:
        page = self.data_page
        self.menus.update_actions(can_remove=page is not None and bool(page.edits.selected_ids()))

    # ------------------------------------------------------------------ status
    @Slot(str, object)
    def _on_project_changed(self, kind: str, ids) -> None:
        self._update_actions()
        self._status_timer.start()

    @Slot()
    @Slot(str, object)
    def update_status(self, *_args) -> None:
        self.project_label.setText(project_summary(self.project))

    @Slot(str)
    def _on_job_started(self, name: str) -> None:
        self.job_label.setText(job_text(name))

    @Slot(bool)
    def _on_busy_changed(self, busy: bool) -> None:
        if not busy:
            self.job_label.setText("")

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

    # ------------------------------------------------------------------ help / close
    @Slot()
    def show_help(self) -> None:
        """Help > Ideas and shortcuts (F1): one page, not modal, kept while the app runs."""
        from gui.window.help_dialog import HelpDialog

        if getattr(self, "help_dialog", None) is None:
            self.help_dialog = HelpDialog(self)
        self.help_dialog.show()
        self.help_dialog.raise_()

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
        # a stopped run saves its state (last.pt) before the thread ends: on a busy machine
        # that can take well over 5 s, and quitting earlier would lose it
        self.bridge.shutdown(30000)
        settings.save_geometry(self)
        self.projects.release(None)  # every page shows nothing; the project file closes
        for page in self.pages:
            stop = getattr(page, "shutdown", None)  # pages with threads of their own stop them
            if callable(stop):
                stop()
        event.accept()

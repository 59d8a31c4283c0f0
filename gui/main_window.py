"""The main window: assembles the start page and the project pages, owns the bridge and the
open Project, and wires menus, drops and the status bar. No engine logic lives here."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

from gui import settings
from gui.bridge import EngineBridge
from gui.import_flow import ImportFlow, local_paths
from gui.start_page import TASK_TEXTS, NewProjectDialog, StartPage

if TYPE_CHECKING:
    from engine.project import Project

APP_NAME = "Topdown"
DEMO_JOB = "demo"
JOB_TEXTS = {  # what the status bar says while a job runs
    "import": "Importing images…",
    DEMO_JOB: "Making the demo project…",
    "train": "Training…",
    "lr_find": "Finding a learning rate…",
    "predict": "Predicting…",
    "predict_folder": "Predicting a folder…",
}


class _ProjectNotifier(QObject):
    """Turns Project change callbacks (any thread) into a queued GUI-thread signal."""

    changed = Signal(str)

    def __call__(self, kind: str, ids) -> None:
        self.changed.emit(kind)


def _make_demo(job, path: str, task: str) -> str:
    """Worker-side: generate the demo project (no download) and return its folder.

    It is built in a side folder and renamed at the end, so an interrupted run never leaves a
    half-made demo that would later open as if complete.
    """
    import shutil

    from engine.demo import create_demo_project

    tmp = Path(path).with_name(Path(path).name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    create_demo_project(tmp, task=task).close()
    os.replace(tmp, path)
    return path


class MainWindow(QMainWindow):
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
        self._notifier = _ProjectNotifier(self)
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
        self._build_menus()
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

    # ------------------------------------------------------------------ menus
    def _action(self, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            act.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
        if tip:
            act.setStatusTip(tip)
        act.triggered.connect(slot)
        menu.addAction(act)
        return act

    def _build_menus(self) -> None:
        mb = self.menuBar()
        f = mb.addMenu("&File")
        self.act_new = self._action(
            f, "&New project…", self.new_project, QKeySequence.StandardKey.New
        )
        self.act_open = self._action(
            f, "&Open project…", self.choose_project, QKeySequence.StandardKey.Open
        )
        self.recent_menu = f.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        f.addSeparator()
        imp = self.imports
        self.import_actions = [
            self._action(
                f,
                "&Import images or folder…",
                imp.import_images_dialog,
                QKeySequence("Ctrl+I"),
                "Copy images into the project",
            ),
            self._action(
                f,
                "Import &CSV labels…",
                imp.import_csv_dialog,
                tip="Images plus a CSV file naming each image's label",
            ),
            self._action(
                f,
                "Import labels from &file names (regex)…",
                imp.import_regex_dialog,
                tip="Take each image's label from its file name",
            ),
            self._action(
                f,
                "Import &segmentation images + masks…",
                imp.import_segmentation_dialog,
                tip="A folder of images and a folder of masks with the same names",
            ),
        ]
        f.addSeparator()
        self.act_close = self._action(
            f, "&Close project", self.close_project, QKeySequence.StandardKey.Close
        )
        f.addSeparator()
        self._action(f, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        e = mb.addMenu("&Edit")
        self.act_undo = self._action(e, "&Undo", self.undo, QKeySequence("Ctrl+Z"))
        self.act_redo = self._action(
            e, "&Redo", self.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        )
        e.aboutToShow.connect(self._update_actions)

        h = mb.addMenu("&Help")
        self._action(h, "&About Topdown", self.about)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recents = settings.recent_projects()
        for path in recents:
            act = self.recent_menu.addAction(f"{Path(path).name}   {path}")
            act.setEnabled(Path(path, "project.json").is_file())
            act.triggered.connect(lambda _=False, p=path: self.open_project(p))
        if not recents:
            self.recent_menu.addAction("(none yet)").setEnabled(False)

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

    # ------------------------------------------------------------------ projects
    @Slot()
    def new_project(self, paths: list[str] | None = None) -> None:
        dlg = NewProjectDialog(self)
        if dlg.exec() != NewProjectDialog.DialogCode.Accepted:
            return
        self.create_project(dlg.path, dlg.task, dlg.targets)

    def create_project(self, path: Path, task: str, targets: list[str] | None = None) -> bool:
        from engine.project import Project, ProjectError

        try:
            project = Project.create(path, task, targets=targets or ())
        except ProjectError as e:
            self.show_message("Cannot create the project", str(e))
            return False
        return self.set_project(project)

    @Slot()
    def choose_project(self) -> None:
        start = str(settings.default_projects_dir())
        d = QFileDialog.getExistingDirectory(self, "Open a Topdown project folder", start)
        if d:
            self.open_project(d)

    @Slot(str)
    def open_project(self, path: str) -> bool:
        """Open a project folder; errors (newer version, not a project) become a message."""
        from engine.project import NewerVersionError, Project, ProjectError

        try:
            project = Project.open(path)
        except NewerVersionError as e:
            self.show_message("Project from a newer Topdown", str(e))
            return False
        except ProjectError as e:
            self.show_message("Cannot open the project", str(e))
            return False
        return self.set_project(project)

    @Slot(str)
    def open_demo(self, task: str = "classification") -> None:
        """Open the demo project, generating it on first request (through the bridge)."""
        path = settings.data_dir() / f"demo-{task}"
        if (path / "project.json").is_file():
            self.open_project(str(path))
            return
        if self.bridge.busy:
            self.show_message("Busy", "Wait for the running job to finish, or cancel it.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.statusBar().showMessage(f"Generating the {task} demo project…")
        self.bridge.submit(DEMO_JOB, _make_demo, str(path), task)

    def set_project(self, project: Project | None) -> bool:
        """Show `project` in every page (None: back to the start page)."""
        if self.bridge.busy:
            self.show_message("Busy", "Wait for the running job to finish, or cancel it first.")
            if project is not None:
                project.close()
            return False
        if project is not None:
            try:
                self._ensure_pages()
            except Exception as e:  # a broken page must not take the window down
                import traceback

                traceback.print_exc()
                self.show_message("The project pages could not be built", f"{e}")
                project.close()
                return False
        old = self.project
        if old is not None:
            old.unsubscribe(self._notifier)
        for page in self.pages:
            page.set_project(project)
        if old is not None:
            old.close()
        self.project = project
        if project is not None:
            project.subscribe(self._notifier)
            settings.add_recent(project.path)
            self.stack.setCurrentWidget(self.tabs)
            self.setWindowTitle(f"{project.name} — {APP_NAME}")
        else:
            self.start_page.refresh()
            self.stack.setCurrentWidget(self.start_page)
            self.setWindowTitle(APP_NAME)
        self._update_actions()
        self.update_status()
        self.project_opened.emit(project)
        return True

    @Slot()
    def close_project(self) -> None:
        if self.project is not None:
            self.set_project(None)

    def _ensure_pages(self) -> None:
        """Build the project pages on first use, so start-up does not pay for them."""
        if self.pages:
            return
        from gui.data_page import DataPage
        from gui.pages import extra_pages

        self.data_page = DataPage(self.bridge, self)
        self.data_page.history_changed.connect(self._update_actions)
        self.data_page.status_message.connect(self._page_message)
        self.data_page.counts_changed.connect(self.update_status)
        self.pages = [self.data_page, *extra_pages(self)]
        for page in self.pages:
            self.tabs.addTab(page, getattr(page, "title", page.objectName() or "Page"))

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
        has = self.project is not None
        seg = has and self.project.task == "segmentation"
        images, csv_labels, regex, masks = self.import_actions
        images.setEnabled(has)
        csv_labels.setEnabled(has and not seg)
        regex.setEnabled(has and not seg)
        masks.setEnabled(seg)
        self.act_close.setEnabled(has)
        h = self._history()
        can_undo, can_redo = bool(h and h.can_undo), bool(h and h.can_redo)
        self.act_undo.setEnabled(can_undo)
        self.act_redo.setEnabled(can_redo)
        self.act_undo.setText(f"&Undo {h.undo_text}" if can_undo else "&Undo")
        self.act_redo.setText(f"&Redo {h.redo_text}" if can_redo else "&Redo")

    # ------------------------------------------------------------------ status
    @Slot(str)
    def _on_project_changed(self, kind: str) -> None:
        self._update_actions()
        self._status_timer.start()

    def update_status(self) -> None:
        p = self.project
        if p is None:
            self.project_label.setText("No project open — open the demo or drop a folder of images")
            return
        c = p.counts()
        task = TASK_TEXTS.get(p.task, (p.task, ""))[0]
        parts = [p.name, task, f"{c.total} image{'s' if c.total != 1 else ''}"]
        if c.total:
            parts.append(f"{c.unlabeled} unlabeled")
        if p.task in ("classification", "multilabel", "segmentation"):
            n = len(c.per_class)
            parts.append(f"{n} class{'es' if n != 1 else ''}")
        self.project_label.setText("  ·  ".join(parts))

    @Slot(str)
    def _on_job_started(self, name: str) -> None:
        self.job_label.setText(JOB_TEXTS.get(name, f"Working: {name}…"))

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
        QMessageBox.about(
            self,
            "About Topdown",
            "<b>Topdown 0.1.0</b><br>Practical deep learning, top-down: label your images, "
            "fine-tune a pretrained network, watch it learn, see where it is wrong.<br><br>"
            "Built on PyTorch, torchvision and Qt (PySide6).",
        )

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

"""Opening, creating and closing projects for the main window (a mixin of MainWindow), and the
worker-side demo generation. Errors become messages; the window stays usable."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog

from gui.common import settings
from gui.start.page import NewProjectDialog
from gui.window.status import DEMO_JOB

if TYPE_CHECKING:
    from engine.project.store import Project

APP_NAME = "Topdown"


class ProjectNotifier(QObject):
    """Turns Project change callbacks (any thread) into a queued GUI-thread signal."""

    changed = Signal(str)

    def __call__(self, kind: str, ids) -> None:
        self.changed.emit(kind)


def make_demo(job, path: str, task: str) -> str:
    """Worker-side: generate the demo project (no download) and return its folder.

    It is built in a side folder and renamed at the end, so an interrupted run never leaves a
    half-made demo that would later open as if complete.
    """
    import shutil

    from engine.project.demo import create_demo_project

    tmp = Path(path).with_name(Path(path).name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    create_demo_project(tmp, task=task).close()
    os.replace(tmp, path)
    return path


class ProjectActions:
    """MainWindow's project handling: new, open, demo, close and showing one in every page.

    Expects the window's bridge, stack, tabs, start_page, pages, data_page, _notifier,
    show_message, _update_actions, update_status, _page_message and project_opened.
    """

    @Slot()
    def new_project(self, paths: list[str] | None = None) -> None:
        dlg = NewProjectDialog(self)
        if dlg.exec() != NewProjectDialog.DialogCode.Accepted:
            return
        self.create_project(dlg.path, dlg.task, dlg.targets)

    def create_project(self, path: Path, task: str, targets: list[str] | None = None) -> bool:
        from engine.project.store import Project, ProjectError

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
        from engine.project.store import NewerVersionError, Project, ProjectError

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
        self.bridge.submit(DEMO_JOB, make_demo, str(path), task)

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
        from gui.data.page import DataPage
        from gui.window.pages import extra_pages

        self.data_page = DataPage(self.bridge, self)
        self.data_page.history_changed.connect(self._update_actions)
        self.data_page.status_message.connect(self._page_message)
        self.data_page.counts_changed.connect(self.update_status)
        self.pages = [self.data_page, *extra_pages(self)]
        for page in self.pages:
            self.tabs.addTab(page, getattr(page, "title", page.objectName() or "Page"))

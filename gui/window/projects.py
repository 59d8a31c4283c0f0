"""Opening, creating and closing projects for the main window, and the demo project.

`ProjectController` owns the lifetime of project files: it opens one (errors become messages;
the window stays usable; a damaged database offers its newest good backup, restored by
engine.project.backup.restore), puts it into the app state (gui.state.AppState), which every page
listens to, and closes the one it replaces. What the window shows around it (title, start page
or tabs) follows the state's `project_changed`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton, QWidget

from gui.common import settings
from gui.jobs.demo import make_demo
from gui.jobs.names import JobName
from gui.start.page import NewProjectDialog

if TYPE_CHECKING:
    from engine.project.backup import Backup
    from engine.project.store import Project
    from gui.bridge import EngineBridge
    from gui.state import AppState

BUSY_TEXT = "Wait for the running job to finish, or cancel it first."


class ProjectController(QObject):
    """New, open, demo and close: which project the app state holds.

    `show_message(title, text)` shows an error or notice; `show_status(text)` a passing line;
    `build_pages()` builds the project pages before the first project is shown (it may raise,
    and then that project is not opened).
    """

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        bridge: EngineBridge,
        *,
        show_message: Callable[[str, str], object],
        show_status: Callable[[str], None],
        build_pages: Callable[[], None],
    ):
        super().__init__(parent)
        self._parent = parent
        self.state = state
        self.bridge = bridge
        self._show_message = show_message
        self._show_status = show_status
        self._build_pages = build_pages
        demo = bridge.job(JobName.DEMO)
        demo.finished.connect(self._on_demo_made)
        demo.failed.connect(self._on_demo_failed)

    @property
    def project(self) -> Project | None:
        return self.state.project

    # ------------------------------------------------------------------ entry points
    @Slot()
    def new_project(self) -> None:
        dlg = NewProjectDialog(self._parent)
        if dlg.exec() != NewProjectDialog.DialogCode.Accepted:
            return
        self.create_project(dlg.path, dlg.task, dlg.targets)

    def create_project(self, path: Path, task: str, targets: list[str] | None = None) -> bool:
        from engine.project.store import Project, ProjectError

        try:
            project = Project.create(path, task, targets=targets or ())
        except ProjectError as e:
            self._show_message("Cannot create the project", str(e))
            return False
        return self.set_project(project)

    @Slot()
    def choose_project(self) -> None:
        start = str(settings.default_projects_dir())
        d = QFileDialog.getExistingDirectory(self._parent, "Open a Topdown project folder", start)
        if d:
            self.open_project(d)

    @Slot(str)
    def open_project(self, path: str) -> bool:
        """Open a project folder; errors (newer version, not a project) become a message, a
        damaged database an offer to restore its backup; a read-only project is said so."""
        from engine.errors import DamagedProjectError
        from engine.project.db import READ_ONLY
        from engine.project.store import NewerVersionError, Project, ProjectError

        try:
            project = Project.open(path)
        except NewerVersionError as e:
            self._show_message("Project from a newer Topdown", str(e))
            return False
        except DamagedProjectError as e:
            return self._offer_restore(Path(path), e)
        except ProjectError as e:
            self._show_message("Cannot open the project", str(e))
            return False
        if not self.set_project(project):
            return False
        if project.read_only:
            self._show_message("Opened read-only", READ_ONLY.format(path=project.path))
        return True

    def _offer_restore(self, path: Path, error: Exception) -> bool:
        """The database is damaged: offer the newest good backup (Cancel leaves all as is)."""
        from engine.project import backup
        from engine.project.store import ProjectError

        good = backup.newest_good(path)
        if good is None:
            self._show_message("The project is damaged", str(error))
            return False
        box, restore = restore_box(self._parent, path, good)
        box.exec()
        if box.clickedButton() is not restore:
            return False
        try:
            done = backup.restore(path)
        except ProjectError as e:
            self._show_message("The backup could not be restored", str(e))
            return False
        kept = f" The damaged file was kept as {done.kept.name}." if done.kept else ""
        if not self.open_project(str(path)):
            return False
        b = done.backup
        self._show_message(
            "Backup restored",
            f"The project was restored from its backup of {b.when()} ({b.age()}); changes "
            f"made after it are not in it.{kept}",
        )
        return True

    @Slot(str)
    def open_demo(self, task: str = "classification") -> None:
        """Open the demo project, generating it on first request (through the bridge)."""
        path = settings.data_dir() / f"demo-{task}"
        if (path / "project.json").is_file():
            self.open_project(str(path))
            return
        if self.bridge.busy:
            self._show_message("Busy", "Wait for the running job to finish, or cancel it.")
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self._show_status(f"Generating the {task} demo project…")
        self.bridge.submit(JobName.DEMO, make_demo, str(path), task)

    @Slot()
    def close_project(self) -> None:
        if self.state.project is not None:
            self.set_project(None)

    # ------------------------------------------------------------------ switching
    def set_project(self, project: Project | None) -> bool:
        """Show `project` everywhere (None: back to the start page); the previous one closes.
        Refused, with a message, while a job runs: the job may be using the open project."""
        if self.bridge.busy:
            self._show_message("Busy", BUSY_TEXT)
            if project is not None:
                project.close()
            return False
        if project is not None:
            try:
                self._build_pages()
            except Exception as e:  # a broken page must not take the window down
                import traceback

                traceback.print_exc()
                self._show_message("The project pages could not be built", f"{e}")
                project.close()
                return False
            settings.add_recent(project.path)
        self.release(project)
        return True

    def release(self, project: Project | None = None) -> None:
        """Put `project` into the state without asking the bridge, and close the old one
        (the window calls this with None on closing, after the bridge has stopped)."""
        old = self.state.project
        self.state.set_project(project)
        if old is not None and old is not project:
            old.close()

    # ------------------------------------------------------------------ the demo job
    @Slot(object)
    def _on_demo_made(self, path: object) -> None:
        self._show_status("")
        self.open_project(str(path))

    @Slot(str)
    def _on_demo_failed(self, message: str) -> None:
        self._show_status("")
        self._show_message("The demo project could not be made", message)


def restore_box(parent: QWidget, path: Path, good: Backup) -> tuple[QMessageBox, QPushButton]:
    """The question asked when a project's database is damaged, and its restore button."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("The project is damaged")
    box.setText(f"The database of the project {path.name} (project.db) is damaged.")
    box.setInformativeText(
        f"A backup from {good.when()} ({good.age()}) can be restored. Changes made after it "
        "will be missing. The damaged file is kept next to it, renamed, not deleted."
    )
    restore = box.addButton(f"Restore backup from {good.when()}", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(restore)
    return box, restore

"""Getting images into a project from the GUI: drops, the File > Import menus, a progress
dialog with Cancel, and one report dialog at the end (added, duplicates, skipped + reasons).

The work runs on the EngineBridge's thread (gui.jobs.imports, handed the importer function
itself), so the window stays responsive during a large import. Each import splits its images
by the project's import plan (engine.imports.plan), which the Re-split dialog sets.
`ImportFlow` takes the app state, the bridge and a parent for its dialogs; the window wires
its signals (messages, status lines, opening a dropped project) as it does ProjectController's.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QObject, Signal, Slot
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox, QWidget

from gui.imports.report import ImportProgressDialog, ImportReportDialog
from gui.jobs.imports import load_importers, run_import
from gui.jobs.names import JobName
from gui.start.page import NewProjectDialog

if TYPE_CHECKING:
    from gui.bridge import EngineBridge
    from gui.state import AppState


def local_paths(mime: QMimeData) -> list[str]:
    """Existing local files and folders among the dropped URLs (others are ignored)."""
    if not mime.hasUrls():
        return []
    out = []
    for url in mime.urls():
        if url.isLocalFile():
            p = url.toLocalFile()
            if Path(p).exists():
                out.append(p)
    return out


def folder_classes(paths: list[str]) -> list[str]:
    """Class names an ImageNet-style drop implies: sub-folders that hold images
    (looking one level deeper under train/ valid/ test/ folders)."""
    from engine.imaging import is_image_name
    from engine.imports.api import SPLIT_DIRS  # the folder names an import takes as splits

    def has_images(d: Path) -> bool:
        return any(is_image_name(f) for f in d.iterdir() if f.is_file())

    names: set[str] = set()
    for p in map(Path, paths):
        if not p.is_dir():
            continue
        try:
            for sub in p.iterdir():
                if not sub.is_dir():
                    continue
                if sub.name.lower() in SPLIT_DIRS:
                    names |= {d.name for d in sub.iterdir() if d.is_dir() and has_images(d)}
                elif has_images(sub):
                    names.add(sub.name)
        except OSError:
            continue
    return sorted(names)


def _source_name(args: tuple) -> str:
    """What the undo step calls the import's source: the one dropped folder or file."""
    first = args[0] if args else None
    if isinstance(first, list | tuple):  # import_paths: what was dropped
        return Path(first[0]).name if len(first) == 1 else ""
    return Path(first).name if isinstance(first, str | Path) else ""


class ImportFlow(QObject):
    """Runs imports into the state's project and shows their progress and report.

    `create_project(path, task, targets) -> bool` makes a project for a drop on the start page.
    Signals: `open_requested(folder)` for a dropped project folder, `message(title, text)` for
    a refusal or failure, `status_message(text)` for the report's summary line, `ended()` once
    an import is over (done, cancelled or failed) and the project's counts have changed.
    """

    open_requested = Signal(str)
    message = Signal(str, str)
    status_message = Signal(str)
    ended = Signal()

    def __init__(
        self,
        parent: QWidget,
        state: AppState,
        bridge: EngineBridge,
        *,
        create_project: Callable[[Path, str, list[str]], bool],
    ):
        super().__init__(parent)
        self._parent = parent
        self.state = state
        self.bridge = bridge
        self._create_project = create_project
        self.progress: ImportProgressDialog | None = None
        self.report_dialog: ImportReportDialog | None = None
        self._count_before = 0
        self._mark = None  # (project, ImportMark, source): what an import is undone back to
        signals = bridge.job(JobName.IMPORT)
        signals.events.connect(self._on_events)
        signals.finished.connect(self._on_finished)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)
        state.project_changed.connect(self._preload)

    @property
    def project(self):
        return self.state.project

    @Slot(object)
    def _preload(self, project) -> None:
        """Load the importers on the bridge's thread while a project is open, so the first
        drop does not pay for it on the GUI thread."""
        if project is not None:
            self.bridge.call(load_importers, done=self._preloaded)

    def _preloaded(self, _result) -> None:
        pass

    # ------------------------------------------------------------------ entry points
    def handle_drop(self, paths: list[str]) -> None:
        """A drop anywhere on the window: a project folder opens; other files and folders are
        imported into the open project, or offered as the start of a new one."""
        from gui.data.drop_choice import NEW, ask_new_or_add, has_folder

        project = self.project
        if len(paths) == 1 and (Path(paths[0]) / "project.json").is_file():
            self.open_requested.emit(paths[0])
        elif project is None:
            self.offer_project_from(paths)
        elif project.count() and has_folder(paths):
            # a folder on a project that already holds images: maybe meant as a project of its own
            choice = ask_new_or_add(self._parent, paths, project)
            if choice == NEW:
                self.offer_project_from(paths)
            elif choice is not None:
                self.import_paths(paths)
        else:
            self.import_paths(paths)

    def import_paths(self, paths: list[str]) -> bool:
        """Import dropped or chosen files and folders (engine.imports.api.import_paths)."""
        return self.start("Importing images", load_importers().import_paths, list(paths))

    def offer_project_from(self, paths: list[str]) -> bool:
        from engine.imports.layouts import detect_segmentation

        layout = detect_segmentation(paths)
        classes = folder_classes(paths) if layout is None else []
        first = Path(paths[0])
        name = first.name if len(paths) == 1 and first.is_dir() else "dropped-images"
        from engine.imports.api import SPLIT_DIRS

        if name.lower() in SPLIT_DIRS and first.parent.name:  # train/ of a data set: its name
            name = first.parent.name
        if layout is not None:
            note = (
                "Make a new segmentation project from what you dropped: images with their "
                f"masks ({layout.describe()})."
            )
        elif classes:
            shown = ", ".join(classes[:8]) + (", …" if len(classes) > 8 else "")
            note = (
                f"Make a new project from what you dropped. Its {len(classes)} sub-folders of "
                f"images become the classes: {shown}."
            )
        else:
            note = (
                "Make a new project from what you dropped. The images come in unlabeled; "
                "you label them on the Data page."
            )
        note += " Your files are copied, never changed."
        task = "segmentation" if layout is not None else "classification"
        dlg = NewProjectDialog(self._parent, name=name, note=note, task=task)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
        if not self._create_project(dlg.path, dlg.task, dlg.targets):
            return False
        return self.import_paths(paths)

    def start(self, title: str, importer: Callable, *args, **kwargs) -> bool:
        """Submit ``importer(project, *args, **kwargs)`` (one of engine.imports.api's), split by
        the project's import plan, and show the progress dialog."""
        project = self.project
        if project is None:
            self.message.emit("No project open", "Open or create a project first.")
            return False
        if self.bridge.busy:
            self.message.emit("Busy", "Wait for the running job to finish, or cancel it first.")
            return False
        if why := self.state.refuse_change():
            self.message.emit("The project is read-only", why)
            return False
        from engine.imports.plan import project_plan
        from engine.project.import_undo import ImportMark

        kwargs.setdefault("plan", project_plan(project))
        self._count_before = project.count()
        self._mark = (project, ImportMark.take(project), _source_name(args))
        self.progress = ImportProgressDialog(self._parent, title)
        self.progress.cancel_button.clicked.connect(self.cancel)
        self.progress.show()
        return self.bridge.submit(JobName.IMPORT, run_import, project, importer, *args, **kwargs)

    @Slot()
    def cancel(self) -> None:
        if self.bridge.job_name == JobName.IMPORT:
            self.bridge.cancel()
            if self.progress is not None:
                self.progress.label.setText("Stopping after the current file…")
                self.progress.cancel_button.setEnabled(False)

    # ------------------------------------------------------------------ menu dialogs
    @Slot()
    def import_images_dialog(self) -> None:
        """File > Import images or folder…: ask which, then pick files or one folder."""
        if self.project is None:
            return
        box = QMessageBox(self._parent)
        box.setWindowTitle("Import images")
        box.setText("Import single image files, or a whole folder?")
        box.setInformativeText(
            "In a folder, sub-folders named after classes (cat/, dog/) become the labels; "
            "loose images come in unlabeled."
        )
        files_button = box.addButton("Image files…", QMessageBox.ButtonRole.AcceptRole)
        folder_button = box.addButton("A folder…", QMessageBox.ButtonRole.AcceptRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.exec()
        paths: list[str] = []
        if box.clickedButton() is files_button:
            paths, _ = QFileDialog.getOpenFileNames(
                self._parent, "Import images", "",
                "Images (*.jpg *.jpeg *.png *.bmp *.gif *.tif *.tiff *.webp);;All files (*)",
            )  # fmt: skip
        elif box.clickedButton() is folder_button:
            folder = QFileDialog.getExistingDirectory(self._parent, "Import a folder of images")
            paths = [folder] if folder else []
        if paths:
            self.import_paths(paths)

    @Slot()
    def import_csv_dialog(self) -> None:
        from gui.imports.dialogs import CsvImportDialog  # loaded on first use: not at start-up

        self._from_dialog(CsvImportDialog)

    @Slot()
    def import_regex_dialog(self) -> None:
        from gui.imports.dialogs import RegexImportDialog

        self._from_dialog(RegexImportDialog)

    @Slot()
    def import_segmentation_dialog(self) -> None:
        from gui.imports.dialogs import SegmentationImportDialog

        self._from_dialog(SegmentationImportDialog)

    def _from_dialog(self, dialog_class) -> None:
        """Ask with one of gui.imports.dialogs, then run the importer it names."""
        if self.project is None:
            return
        dlg = dialog_class(self._parent, self.project)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.start(dlg.running, dlg.importer(), *dlg.args(), **dlg.kwargs())

    # ------------------------------------------------------------------ bridge signals
    @Slot(list)
    def _on_events(self, events: list) -> None:
        if self.progress is None:
            return
        from engine.events import Progress  # numpy comes with it: not at start-up

        last = next((e for e in reversed(events) if isinstance(e, Progress)), None)
        if last is not None:
            self.progress.update_progress(last)

    def _close_progress(self) -> None:
        if self.progress is not None:
            self.progress.close()
            self.progress.deleteLater()
            self.progress = None

    def _show_report(self, report, cancelled: bool = False, added: int | None = None) -> None:
        if self.report_dialog is not None:
            self.report_dialog.close()
        self.report_dialog = ImportReportDialog(self._parent, report, cancelled, added)
        self.report_dialog.show()
        self.status_message.emit(self.report_dialog.summary.text())
        self.ended.emit()

    def _record_undo(self) -> None:
        """The import just ended (done, cancelled or failed): what it added is one undo step."""
        mark, self._mark = self._mark, None
        if mark is None or mark[0] is not self.project:
            return
        project, since, source = mark
        self.state.edit(lambda h: h.record_import(since, source))

    @Slot(object)
    def _on_finished(self, report: object) -> None:
        self._close_progress()
        self._record_undo()
        self._show_report(report)

    @Slot()
    def _on_cancelled(self) -> None:
        self._close_progress()
        self._record_undo()
        project = self.project
        added = project.count() - self._count_before if project is not None else 0
        self._show_report(None, cancelled=True, added=max(0, added))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._close_progress()
        self._record_undo()
        self.ended.emit()
        self.message.emit("The import stopped", message)

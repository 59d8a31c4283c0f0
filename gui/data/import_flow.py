"""Getting images into a project from the GUI: drops, the File > Import menus, a progress
dialog with Cancel, and one report dialog at the end (added, duplicates, skipped + reasons).

The work runs through the window's EngineBridge (gui.jobs.imports on the worker thread), so
the window stays responsive during a large import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QObject, Qt, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.jobs.imports import run_import
from gui.jobs.names import JobName
from gui.start.page import NewProjectDialog

if TYPE_CHECKING:
    from engine.events import Progress


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


def _source_name(kind: str, args: tuple) -> str:
    """What the undo step calls the import's source: the one dropped folder or file."""
    first = args[0] if args else None
    if kind == "import_paths" and isinstance(first, list | tuple):
        return Path(first[0]).name if len(first) == 1 else ""
    return Path(first).name if isinstance(first, str | Path) else ""


class ImportProgressDialog(QDialog):
    """Non-blocking progress with Cancel; the window stays usable behind it."""

    def __init__(self, parent: QWidget, title: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        lay = QVBoxLayout(self)
        self.label = QLabel("Looking for images…")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel")
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)

    def update_progress(self, p: Progress) -> None:
        if p.total > 0:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
            self.label.setText(p.text or f"{p.done} of {p.total} files")
        else:
            self.bar.setRange(0, 0)
            self.label.setText(p.text or f"{p.done} files")


class ImportReportDialog(QDialog):
    """One summary of an import: what was added, what was a duplicate, what was skipped."""

    def __init__(self, parent: QWidget, report, cancelled: bool = False, added: int | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import cancelled" if cancelled else "Import finished")
        self.setMinimumSize(640, 360)
        skipped = list(getattr(report, "skipped", []) or [])
        duplicates = list(getattr(report, "duplicates", []) or [])
        if added is None:
            a = getattr(report, "added", 0)
            added = a if isinstance(a, int) else len(a)
        self.added, self.skipped, self.duplicates = added, skipped, duplicates
        lines = [f"Added {added} image{'s' if added != 1 else ''}."]
        if added:
            lines.append("Edit ▸ Undo (Ctrl+Z) takes the whole import out again.")
        if cancelled:
            lines.insert(0, "The import was cancelled; what was added before stays.")
        if duplicates:
            n = len(duplicates)
            lines.append(f"{n} duplicate{'s' if n != 1 else ''} (same content) not added again.")
        if skipped:
            lines.append(f"{len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped.")
        unmatched = list(getattr(report, "unmatched", []) or [])
        self.unmatched = unmatched
        if getattr(report, "pairs", 0):
            lines.insert(1, f"{report.pairs} with their masks.")
        if unmatched:
            lines.append(f"{len(unmatched)} file{'s' if len(unmatched) != 1 else ''} not matched.")
        detected = report.details() if report is not None else []
        lay = QVBoxLayout(self)
        self.summary = QLabel(" ".join(lines))
        self.summary.setObjectName("reportSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.detected = QLabel("\n".join(detected))
        self.detected.setObjectName("reportDetected")
        self.detected.setWordWrap(True)
        self.detected.setVisible(bool(detected))
        lay.addWidget(self.detected)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["File", "What happened"])
        self.table.setRootIsDecorated(False)
        self.table.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.header().setStretchLastSection(True)
        for path, reason in skipped:
            item = QTreeWidgetItem([Path(str(path)).name, f"Skipped: {reason}"])
            item.setToolTip(0, str(path))
            self.table.addTopLevelItem(item)
        for path, existing in duplicates:
            item = QTreeWidgetItem([Path(str(path)).name, f"Duplicate of {existing}"])
            item.setToolTip(0, str(path))
            self.table.addTopLevelItem(item)
        for path, why in unmatched:
            item = QTreeWidgetItem([Path(str(path)).name, f"Not matched: {why}"])
            item.setToolTip(0, str(path))
            self.table.addTopLevelItem(item)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(360, self.table.columnWidth(0) + 24))
        self.table.setVisible(bool(skipped or duplicates or unmatched))
        lay.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.accepted.connect(self.close)
        lay.addWidget(buttons)
        if not (skipped or duplicates or unmatched):
            self.setMinimumSize(360, 120)

    def rows(self) -> list[tuple[str, str]]:
        t = self.table
        return [
            (t.topLevelItem(i).text(0), t.topLevelItem(i).text(1))
            for i in range(t.topLevelItemCount())
        ]


class ImportFlow(QObject):
    """Runs imports for a MainWindow and shows their progress and report."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.progress: ImportProgressDialog | None = None
        self.report_dialog: ImportReportDialog | None = None
        self._count_before = 0
        self._mark = None  # (project, ImportMark, source): what an import is undone back to
        signals = window.bridge.job(JobName.IMPORT)
        signals.events.connect(self._on_events)
        signals.finished.connect(self._on_finished)
        signals.failed.connect(self._on_failed)
        signals.cancelled.connect(self._on_cancelled)

    # ------------------------------------------------------------------ entry points
    def handle_drop(self, paths: list[str]) -> None:
        """A drop anywhere on the window: a project folder opens; other files and folders are
        imported into the open project, or offered as the start of a new one."""
        from gui.data.drop_choice import NEW, ask_new_or_add, has_folder

        project = self.window.project
        if len(paths) == 1 and (Path(paths[0]) / "project.json").is_file():
            self.window.projects.open_project(paths[0])
        elif project is None:
            self.offer_project_from(paths)
        elif project.count() and has_folder(paths):
            # a folder on a project that already holds images: maybe meant as a project of its own
            choice = ask_new_or_add(self.window, paths, project)
            if choice == NEW:
                self.offer_project_from(paths)
            elif choice is not None:
                self.start("Importing images", "import_paths", list(paths))
        else:
            self.start("Importing images", "import_paths", list(paths))

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
        dlg = NewProjectDialog(self.window, name=name, note=note, task=task)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return False
        if not self.window.projects.create_project(dlg.path, dlg.task, dlg.targets):
            return False
        return self.start("Importing images", "import_paths", list(paths))

    def start(self, title: str, kind: str, *args, **kwargs) -> bool:
        """Submit ``engine.imports.api.<kind>(project, *args)`` and show the progress dialog."""
        w = self.window
        if w.project is None:
            w.show_message("No project open", "Open or create a project first.")
            return False
        if w.bridge.busy:
            w.show_message("Busy", "Wait for the running job to finish, or cancel it first.")
            return False
        if why := w.state.refuse_change():
            w.show_message("The project is read-only", why)
            return False
        from engine.project.import_undo import ImportMark

        self._count_before = w.project.count()
        self._mark = (w.project, ImportMark.take(w.project), _source_name(kind, args))
        self.progress = ImportProgressDialog(w, title)
        self.progress.cancel_button.clicked.connect(self.cancel)
        self.progress.show()
        return w.bridge.submit(JobName.IMPORT, run_import, w.project, kind, *args, **kwargs)

    @Slot()
    def cancel(self) -> None:
        if self.window.bridge.job_name == JobName.IMPORT:
            self.window.bridge.cancel()
            if self.progress is not None:
                self.progress.label.setText("Stopping after the current file…")
                self.progress.cancel_button.setEnabled(False)

    # ------------------------------------------------------------------ menu dialogs
    @Slot()
    def import_images_dialog(self) -> None:
        """File > Import images or folder…: ask which, then pick files or one folder."""
        if self.window.project is None:
            return
        box = QMessageBox(self.window)
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
                self.window, "Import images", "",
                "Images (*.jpg *.jpeg *.png *.bmp *.gif *.tif *.tiff *.webp);;All files (*)",
            )  # fmt: skip
        elif box.clickedButton() is folder_button:
            folder = QFileDialog.getExistingDirectory(self.window, "Import a folder of images")
            paths = [folder] if folder else []
        if paths:
            self.start("Importing images", "import_paths", paths)

    @Slot()
    def import_csv_dialog(self) -> None:
        if self.window.project is None:
            return
        from gui.data.import_dialogs import CsvImportDialog  # loaded on first use: not at start-up

        dlg = CsvImportDialog(self.window, self.window.project)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.start("Importing images and CSV labels", "import_csv", *dlg.args(), **dlg.kwargs())

    @Slot()
    def import_regex_dialog(self) -> None:
        if self.window.project is None:
            return
        from gui.data.import_dialogs import (
            RegexImportDialog,  # loaded on first use: not at start-up
        )

        dlg = RegexImportDialog(self.window, self.window.project)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.start("Importing images labeled by file name", "import_regex", *dlg.args())

    @Slot()
    def import_segmentation_dialog(self) -> None:
        if self.window.project is None:
            return
        from gui.data.import_dialogs import (
            SegmentationImportDialog,
        )  # loaded on first use: not at start-up

        dlg = SegmentationImportDialog(self.window, self.window.project)
        if dlg.exec() == QDialog.DialogCode.Accepted:
            self.start("Importing images and masks", "import_segmentation", *dlg.args())

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
        self.report_dialog = ImportReportDialog(self.window, report, cancelled, added)
        self.report_dialog.show()
        msg = self.report_dialog.summary.text()
        self.window.statusBar().showMessage(msg, 8000)
        self.window.update_status()

    def _record_undo(self) -> None:
        """The import just ended (done, cancelled or failed): what it added is one undo step."""
        mark, self._mark = self._mark, None
        if mark is None or mark[0] is not self.window.project:
            return
        project, since, source = mark
        self.window.state.edit(lambda h: h.record_import(since, source))

    @Slot(object)
    def _on_finished(self, report: object) -> None:
        self._close_progress()
        self._record_undo()
        self._show_report(report)

    @Slot()
    def _on_cancelled(self) -> None:
        self._close_progress()
        self._record_undo()
        project = self.window.project
        added = project.count() - self._count_before if project is not None else 0
        self._show_report(None, cancelled=True, added=max(0, added))

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._close_progress()
        self._record_undo()
        self.window.update_status()
        self.window.show_message("The import stopped", message)

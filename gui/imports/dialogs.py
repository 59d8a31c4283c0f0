"""Small dialogs behind File > Import: CSV labels, labels from file names (regex), and
segmentation images + masks. Each checks its input before OK is enabled and says what is wrong.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

PREVIEW_FILES = 6


def _image_files(folder: Path, limit: int = 2000) -> list[Path]:
    from engine.imaging import is_image_name

    out: list[Path] = []
    try:
        for p in sorted(folder.rglob("*")):
            if p.is_file() and is_image_name(p):
                out.append(p)
                if len(out) >= limit:
                    break
    except OSError:
        pass
    return out


class _PathRow(QWidget):
    """A line edit with a Browse… button for a file or a folder."""

    def __init__(self, parent: QWidget, folder: bool, caption: str, filter: str = ""):
        super().__init__(parent)
        self.folder, self.caption, self.filter = folder, caption, filter
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        lay.addWidget(self.edit, 1)
        lay.addWidget(browse)

    def _browse(self) -> None:
        if self.folder:
            p = QFileDialog.getExistingDirectory(self, self.caption, self.edit.text())
        else:
            p, _ = QFileDialog.getOpenFileName(self, self.caption, self.edit.text(), self.filter)
        if p:
            self.edit.setText(p)

    @property
    def path(self) -> Path | None:
        t = self.edit.text().strip()
        return Path(t).expanduser() if t else None


class _ImportDialog(QDialog):
    """Shared frame: an explanation, a form, a preview/problem line, OK + Cancel. Accepted, it
    names the importer to run (`importer()`, an engine.imports.api function), its arguments
    after the project (`args()`, `kwargs()`), and the progress dialog's title (`running`)."""

    running = "Importing images"

    def __init__(self, parent: QWidget, title: str, explanation: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(580)
        lay = QVBoxLayout(self)
        intro = QLabel(explanation)
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.form = QFormLayout()
        lay.addLayout(self.form)
        self.preview = QLabel()
        self.preview.setObjectName("hint")
        self.preview.setWordWrap(True)
        lay.addWidget(self.preview)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)

    def check(self) -> tuple[str, str]:
        """(problem, preview): problem is "" when the input can be imported."""
        raise NotImplementedError

    def importer(self) -> Callable:
        raise NotImplementedError

    def args(self) -> tuple:
        raise NotImplementedError

    def kwargs(self) -> dict:
        return {}

    def refresh(self) -> None:
        problem, preview = self.check()
        self.preview.setText(problem or preview)
        self.preview.setProperty("error", bool(problem))
        self.preview.style().unpolish(self.preview)
        self.preview.style().polish(self.preview)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)


class CsvImportDialog(_ImportDialog):
    """A CSV file (image file name, label) plus the folder that holds the images."""

    running = "Importing images and CSV labels"

    def __init__(self, parent: QWidget, project):
        super().__init__(
            parent,
            "Import images with CSV labels",
            "Choose a CSV file whose first column names an image file and whose other column "
            "holds its label (for multi-label, labels separated by spaces; for regression, "
            "numbers). The images are looked up in the folder you choose.",
        )
        self.csv_row = _PathRow(self, False, "CSV file", "CSV files (*.csv *.tsv *.txt)")
        self.dir_row = _PathRow(self, True, "Folder with the images")
        self.form.addRow("CSV file:", self.csv_row)
        self.form.addRow("Images folder:", self.dir_row)
        self.csv_row.edit.textChanged.connect(self._csv_changed)
        self.dir_row.edit.textChanged.connect(self.refresh)
        self.refresh()

    def _csv_changed(self) -> None:
        p = self.csv_row.path
        if p is not None and p.is_file() and not self.dir_row.edit.text():
            self.dir_row.edit.setText(str(p.parent))
        self.refresh()

    def check(self) -> tuple[str, str]:
        c, d = self.csv_row.path, self.dir_row.path
        if c is None:
            return "Choose a CSV file.", ""
        if not c.is_file():
            return f"{c} does not exist.", ""
        if d is None or not d.is_dir():
            return "Choose the folder that holds the images.", ""
        try:
            with open(c, newline="", encoding="utf-8-sig") as f:
                rows = [r for _, r in zip(range(4), csv.reader(f), strict=False)]
        except (OSError, UnicodeDecodeError, csv.Error) as e:
            return f"{c.name} cannot be read as CSV: {e}", ""
        if not rows or len(rows[0]) < 2:
            return f"{c.name} needs at least two columns (image, label).", ""
        shown = "; ".join(", ".join(r) for r in rows)
        return "", f"First rows: {shown}"

    def importer(self) -> Callable:
        from engine.imports.api import import_csv

        return import_csv

    def args(self) -> tuple:
        return (self.csv_row.path, self.dir_row.path)


class RegexImportDialog(_ImportDialog):
    """A folder of images whose label is part of each file name, caught by a regex group."""

    running = "Importing images labeled by file name"

    def __init__(self, parent: QWidget, project):
        super().__init__(
            parent,
            "Import labels from file names",
            "Choose a folder of images and a regular expression whose first group (...) "
            "catches the label in each file name. Example: for 'great_pyrenees_173.jpg' the "
            r"pattern ^(.+)_\d+ gives 'great_pyrenees'.",
        )
        self.dir_row = _PathRow(self, True, "Folder with the images")
        self.pattern = QLineEdit(r"^(.+?)_\d+\.\w+$")
        self.form.addRow("Images folder:", self.dir_row)
        self.form.addRow("Pattern:", self.pattern)
        self._files: list[Path] = []
        self.dir_row.edit.textChanged.connect(self._dir_changed)
        self.pattern.textChanged.connect(self.refresh)
        self.refresh()

    def _dir_changed(self) -> None:
        d = self.dir_row.path
        self._files = _image_files(d, 500) if d is not None and d.is_dir() else []
        self.refresh()

    def check(self) -> tuple[str, str]:
        d = self.dir_row.path
        if d is None or not d.is_dir():
            return "Choose the folder that holds the images.", ""
        try:
            rx = re.compile(self.pattern.text())
        except re.error as e:
            return f"The pattern is not a valid regular expression: {e}", ""
        if rx.groups < 1:
            return "The pattern needs a group in parentheses, like ^(.+)_\\d+", ""
        if not self._files:
            return f"No images found in {d}.", ""
        group = "label" if "label" in rx.groupindex else 1
        matched = [(f.name, m.group(group)) for f in self._files if (m := rx.search(f.name))]
        if not matched:
            return f"The pattern matches none of the {len(self._files)} file names.", ""
        labels = sorted({lab for _, lab in matched})
        examples = ", ".join(f"{n} → {lab}" for n, lab in matched[:3])
        return "", (
            f"{len(matched)} of {len(self._files)} files match; {len(labels)} labels. "
            f"For example: {examples}"
        )

    def importer(self) -> Callable:
        from engine.imports.api import import_regex

        return import_regex

    def args(self) -> tuple:
        return (self.dir_row.path, self.pattern.text())


class SegmentationImportDialog(_ImportDialog):
    """A folder of images and a folder of masks (same file stem, class index per pixel)."""

    running = "Importing images and masks"

    def __init__(self, parent: QWidget, project):
        super().__init__(
            parent,
            "Import segmentation images and masks",
            "Choose a folder of images and a folder of masks. A mask has the same name as its "
            "image (any image extension) and holds one class number per pixel; 255 means "
            "'not labeled'.",
        )
        self.images_row = _PathRow(self, True, "Folder with the images")
        self.masks_row = _PathRow(self, True, "Folder with the masks")
        self.codes_row = _PathRow(self, False, "Class names, one per line", "Text (*.txt)")
        self.codes_row.edit.setPlaceholderText("optional: codes.txt naming the classes in order")
        self.form.addRow("Images folder:", self.images_row)
        self.form.addRow("Masks folder:", self.masks_row)
        self.form.addRow("Class names:", self.codes_row)
        self.images_row.edit.textChanged.connect(self._images_changed)
        self.masks_row.edit.textChanged.connect(self.refresh)
        self.codes_row.edit.textChanged.connect(self.refresh)
        self.refresh()

    def _images_changed(self) -> None:
        d = self.images_row.path
        if d is not None and d.is_dir() and not self.masks_row.edit.text():
            for name in ("masks", "labels", "annotations"):
                if (d.parent / name).is_dir():
                    self.masks_row.edit.setText(str(d.parent / name))
                    break
        if d is not None and (d.parent / "codes.txt").is_file() and not self.codes_row.edit.text():
            self.codes_row.edit.setText(str(d.parent / "codes.txt"))
        self.refresh()

    def check(self) -> tuple[str, str]:
        i, m = self.images_row.path, self.masks_row.path
        if i is None or not i.is_dir():
            return "Choose the folder that holds the images.", ""
        if m is None or not m.is_dir():
            return "Choose the folder that holds the masks.", ""
        if i.resolve() == m.resolve():
            return "Images and masks must be in different folders.", ""
        codes = self.codes_row.path
        if codes is not None and not codes.is_file():
            return f"The class names file {codes} does not exist.", ""
        from engine.imports.api import MASK_SUFFIXES

        images = {p.stem for p in _image_files(i)}
        masks = {p.stem for p in _image_files(m)}
        if not images:
            return f"No images found in {i}.", ""
        both = sum(any(s + x in masks for x in MASK_SUFFIXES) for s in images)
        return "", (
            f"{len(images)} images, {len(masks)} masks; {both} images have a mask "
            "(the others come in unlabeled)."
        )

    def importer(self) -> Callable:
        from engine.imports.api import import_segmentation

        return import_segmentation

    def args(self) -> tuple:
        return (self.images_row.path, self.masks_row.path, self.codes_row.path)

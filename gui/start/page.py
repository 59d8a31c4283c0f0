"""The start page shown when no project is open: demo, new, open, recent projects.

It only emits requests; the main window does the work (so the page stays a dumb view).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gui.common import settings

DEMO_VARIANTS = (
    ("classification", "Classification: which shape is it?"),
    ("multilabel", "Multi-label: which shapes are in it?"),
    ("segmentation", "Segmentation: where is each shape?"),
    ("regression", "Regression: how many shapes?"),
)
PATH_ROLE = Qt.ItemDataRole.UserRole
MISSING_ROLE = Qt.ItemDataRole.UserRole + 1


class Card(QFrame):
    """A large clickable tile: a bold title line and a plain explanation under it.
    Activated by a click, or by Space / Enter when it has the keyboard focus."""

    clicked = Signal()

    def __init__(self, title: str, text: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("card")
        self.setAccessibleName(title)
        self.setAttribute(Qt.WidgetAttribute.WA_Hover)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 12, 16, 12)
        lay.setSpacing(2)
        self.title_label = QLabel(title)
        self.title_label.setObjectName("cardTitle")
        self.text_label = QLabel(text)
        self.text_label.setObjectName("cardText")
        self.text_label.setWordWrap(True)
        lay.addWidget(self.title_label)
        lay.addWidget(self.text_label)

    def mouseReleaseEvent(self, event) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clicked.emit()
        else:
            super().keyPressEvent(event)


class StartPage(QWidget):
    """First thing a user sees: ways in, and the projects they used last."""

    demo_requested = Signal(str)  # task of the demo variant
    new_requested = Signal()
    open_requested = Signal()
    recent_requested = Signal(str)  # project folder

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("startPage")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(48, 40, 48, 32)
        outer.setSpacing(24)

        title = QLabel("Topdown")
        title.setObjectName("appTitle")
        tagline = QLabel(
            "Label your images, fine-tune a pretrained network, watch it learn, "
            "and see where it is wrong."
        )
        tagline.setObjectName("tagline")
        tagline.setWordWrap(True)
        outer.addWidget(title)
        outer.addWidget(tagline)

        columns = QHBoxLayout()
        columns.setSpacing(32)
        outer.addLayout(columns, 1)

        # ---- left: ways to start
        left = QVBoxLayout()
        left.setSpacing(12)
        left.addWidget(self._heading("Start"))
        self.demo_button = Card(
            "Open the demo project", "A small generated data set, ready to train in minutes."
        )
        self.demo_variant = QComboBox()
        for task, text in DEMO_VARIANTS:
            self.demo_variant.addItem(text, task)
        self.demo_variant.setToolTip("Which kind of demo project to open")
        self.new_button = Card(
            "New project…", "Pick a folder and a task, then add your own images."
        )
        self.open_button = Card("Open project…", "Continue with a project folder on disk.")
        left.addWidget(self.demo_button)
        variant_row = QHBoxLayout()
        variant_row.setContentsMargins(4, 0, 0, 0)
        variant_row.addWidget(QLabel("Demo:"))
        variant_row.addWidget(self.demo_variant, 1)
        left.addLayout(variant_row)
        left.addSpacing(8)
        left.addWidget(self.new_button)
        left.addWidget(self.open_button)
        left.addSpacing(8)
        hint = QLabel(
            "Tip: drop a folder of images anywhere on this window to start a project. "
            "Sub-folders named after classes (cat/, dog/) become the labels."
        )
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        left.addWidget(hint)
        left.addStretch(1)
        columns.addLayout(left, 2)

        # ---- right: recent projects
        right = QVBoxLayout()
        right.setSpacing(12)
        head = QHBoxLayout()
        head.addWidget(self._heading("Recent projects"))
        head.addStretch(1)
        self.forget_missing_button = QPushButton("Forget missing")
        self.forget_missing_button.setObjectName("link")
        self.forget_missing_button.setToolTip("Remove projects whose folder no longer exists")
        head.addWidget(self.forget_missing_button)
        right.addLayout(head)
        self.recent_list = QListWidget()
        self.recent_list.setObjectName("recentList")
        self.recent_list.setIconSize(QSize(0, 0))
        self.recent_list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.recent_list.setFrameShape(QFrame.Shape.NoFrame)
        self.empty_recent = QLabel("No recent projects yet.\nOpen the demo to get going.")
        self.empty_recent.setObjectName("emptyState")
        self.empty_recent.setAlignment(Qt.AlignmentFlag.AlignCenter)
        right.addWidget(self.recent_list, 1)
        right.addWidget(self.empty_recent, 1)
        columns.addLayout(right, 3)

        self.demo_button.clicked.connect(self._emit_demo)
        self.new_button.clicked.connect(self.new_requested)
        self.open_button.clicked.connect(self.open_requested)
        self.recent_list.itemActivated.connect(self._activate)
        self.recent_list.itemClicked.connect(self._activate)
        self.recent_list.customContextMenuRequested.connect(self._context_menu)
        self.forget_missing_button.clicked.connect(self._forget_missing)
        self.refresh()

    @staticmethod
    def _heading(text: str) -> QLabel:
        lab = QLabel(text)
        lab.setObjectName("sectionHeading")
        return lab

    # ------------------------------------------------------------------ recent list
    def refresh(self) -> None:
        """Re-read the recent projects from the settings."""
        self.recent_list.clear()
        any_missing = False
        for path in settings.recent_projects():
            p = Path(path)
            missing = not (p / "project.json").is_file()
            any_missing |= missing
            text = f"{p.name}\n{path}" + ("   (missing)" if missing else "")
            item = QListWidgetItem(text)
            item.setData(PATH_ROLE, path)
            item.setData(MISSING_ROLE, missing)
            item.setToolTip(
                f"{path} no longer holds a project; click to remove it from the list"
                if missing
                else f"Open {path}"
            )
            if missing:
                item.setForeground(self.palette().placeholderText())
            self.recent_list.addItem(item)
        has_items = self.recent_list.count() > 0
        self.recent_list.setVisible(has_items)
        self.empty_recent.setVisible(not has_items)
        self.forget_missing_button.setVisible(any_missing)

    def recent_paths(self) -> list[str]:
        return [self.recent_list.item(i).data(PATH_ROLE) for i in range(self.recent_list.count())]

    def _activate(self, item: QListWidgetItem) -> None:
        path = item.data(PATH_ROLE)
        if item.data(MISSING_ROLE):
            answer = QMessageBox.question(
                self,
                "Project not found",
                f"The project folder\n{path}\nno longer exists or was moved.\n\n"
                "Remove it from the recent projects?",
            )
            if answer == QMessageBox.StandardButton.Yes:
                self.remove_recent(path)
            return
        self.recent_requested.emit(path)

    def remove_recent(self, path: str) -> None:
        settings.remove_recent(path)
        self.refresh()

    def _forget_missing(self) -> None:
        settings.clear_missing_recent()
        self.refresh()

    def _context_menu(self, pos) -> None:
        item = self.recent_list.itemAt(pos)
        if item is None:
            return
        menu = QMenu(self)
        path = item.data(PATH_ROLE)
        if not item.data(MISSING_ROLE):
            menu.addAction("Open", lambda: self.recent_requested.emit(path))
        menu.addAction("Remove from list", lambda: self.remove_recent(path))
        menu.exec(self.recent_list.viewport().mapToGlobal(pos))

    def _emit_demo(self) -> None:
        self.demo_requested.emit(self.demo_variant.currentData())


TASK_TEXTS = {
    "classification": ("Classification", "Each image gets one class: cat, dog or bird."),
    "multilabel": ("Multi-label", "An image can carry several labels at once: sky, tree, person."),
    "regression": ("Regression", "Each image gets a number: an age, an angle, a ripeness score."),
    "segmentation": ("Segmentation", "Every pixel gets a class: road, car, background."),
}


class NewProjectDialog(QDialog):
    """Ask for a project folder and a task, with a plain sentence on what each task means."""

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        name: str = "",
        task: str = "classification",
        note: str = "",
    ):
        super().__init__(parent)
        self.setWindowTitle("New project")
        self.setMinimumWidth(560)
        lay = QVBoxLayout(self)
        lay.setSpacing(12)
        if note:
            note_label = QLabel(note)
            note_label.setWordWrap(True)
            note_label.setObjectName("note")
            lay.addWidget(note_label)
        form = QFormLayout()
        self.name_edit = QLineEdit(name or self._free_name())
        self.location_edit = QLineEdit(str(settings.default_projects_dir()))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        loc_row = QHBoxLayout()
        loc_row.addWidget(self.location_edit, 1)
        loc_row.addWidget(browse)
        form.addRow("Name:", self.name_edit)
        form.addRow("Save in:", loc_row)
        lay.addLayout(form)

        lay.addWidget(QLabel("What should the network learn?"))
        self.task_buttons: dict[str, QRadioButton] = {}
        group = QButtonGroup(self)
        for key, (title, text) in TASK_TEXTS.items():
            rb = QRadioButton(f"{title} — {text}")
            rb.setChecked(key == task)
            group.addButton(rb)
            self.task_buttons[key] = rb
            lay.addWidget(rb)
        self.targets_edit = QLineEdit("value")
        self.targets_edit.setToolTip("Names of the numbers to predict, separated by commas")
        self.targets_row = QWidget()
        tr = QHBoxLayout(self.targets_row)
        tr.setContentsMargins(24, 0, 0, 0)
        tr.addWidget(QLabel("Numbers to predict:"))
        tr.addWidget(self.targets_edit, 1)
        lay.addWidget(self.targets_row)
        for rb in self.task_buttons.values():
            rb.toggled.connect(self._update)
        self.path_label = QLabel()
        self.path_label.setObjectName("hint")
        self.path_label.setWordWrap(True)
        lay.addWidget(self.path_label)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create project")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        lay.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._update)
        self.location_edit.textChanged.connect(self._update)
        self._update()

    @staticmethod
    def _free_name() -> str:
        base = settings.default_projects_dir()
        for i in range(1, 1000):
            name = f"project-{i}"
            if not (base / name).exists():
                return name
        return "project"

    def _browse(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Save the project in", self.location_edit.text())
        if d:
            self.location_edit.setText(d)

    @property
    def task(self) -> str:
        return next(k for k, rb in self.task_buttons.items() if rb.isChecked())

    @property
    def path(self) -> Path:
        return Path(self.location_edit.text().strip()).expanduser() / self.name_edit.text().strip()

    @property
    def targets(self) -> list[str]:
        return [t.strip() for t in self.targets_edit.text().split(",") if t.strip()] or ["value"]

    def problem(self) -> str:
        """Why the current choice cannot be created, or "" when it can."""
        name = self.name_edit.text().strip()
        if not name:
            return "Give the project a name."
        if any(c in name for c in '/\\:*?"<>|'):
            return 'A name cannot contain / \\ : * ? " < > |'
        if not self.location_edit.text().strip():
            return "Choose where to save the project."
        if (self.path / "project.json").exists():
            return f"{self.path} already holds a project; open it instead."
        if self.path.exists() and any(self.path.iterdir()):
            return f"{self.path} exists and is not empty; choose another name."
        return ""

    def _update(self) -> None:
        self.targets_row.setVisible(self.task == "regression")
        problem = self.problem()
        self.path_label.setText(problem or f"The project folder will be {self.path}")
        self.path_label.setProperty("error", bool(problem))
        self.path_label.style().unpolish(self.path_label)
        self.path_label.style().polish(self.path_label)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

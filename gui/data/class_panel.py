"""The class panel: each class with its colour, name, image count and key hint (1-9), plus the
unlabeled count. Create, rename (double-click), recolour, merge and delete classes; drop
thumbnails on a class to label them. A regression project gets a number entry instead.

Class changes go straight to the project (they are not label edits, so not in the undo history);
label changes are only *requested* here through signals, and the page applies them through the
app state's undo history.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QDoubleValidator
from PySide6.QtWidgets import (
    QColorDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSpacerItem,
    QVBoxLayout,
    QWidget,
)

from gui.common.colors import NEUTRAL, qcolor
from gui.data.class_list import COLOR, COUNT, HINT, NAME, UNLABELED, VALUED, ClassList


class ValueEntry(QWidget):
    """Regression: one number box per target and an Apply button for the selected images."""

    values_entered = Signal(list)
    values_cleared = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self._boxes: list[QLineEdit] = []
        self._form = QVBoxLayout()
        self._lay.addLayout(self._form)
        row = QHBoxLayout()
        self.apply_button = QPushButton("Apply to selected")
        self.apply_button.setDefault(True)
        self.clear_button = QPushButton("Clear")
        self.apply_button.clicked.connect(self.apply)
        self.clear_button.clicked.connect(self.values_cleared)
        row.addWidget(self.apply_button, 1)
        row.addWidget(self.clear_button)
        self._lay.addLayout(row)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b42318;")
        self.error.setWordWrap(True)
        self._lay.addWidget(self.error)

    def set_targets(self, names: list[str]) -> None:
        while self._form.count():
            w = self._form.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self._boxes = []
        for n in names or ["value"]:
            box = QLineEdit()
            box.setPlaceholderText("a number, e.g. 2.5")
            box.setValidator(QDoubleValidator())
            box.returnPressed.connect(self.apply)
            self._form.addWidget(QLabel(n))
            self._form.addWidget(box)
            self._boxes.append(box)

    def set_values(self, values: list[float]) -> None:
        for box, v in zip(self._boxes, values, strict=False):
            box.setText(f"{v:g}")

    def apply(self) -> None:
        try:
            vals = [float(b.text().replace(",", ".")) for b in self._boxes]
        except ValueError:
            self.error.setText("Enter a number in every box.")
            return
        self.error.setText("")
        self.values_entered.emit(vals)


class ClassPanel(QWidget):
    """Classes of the open project, with counts; emits label requests for the page."""

    ids_dropped = Signal(str, list)  # class name ("" = unlabel), ids
    values_entered = Signal(list)  # regression values for the selection
    values_cleared = Signal()
    classes_changed = Signal()  # renamed / recoloured / merged / deleted / added
    message = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel("Classes")
        self.title.setStyleSheet("font-weight: 600; font-size: 11pt;")
        self.add_button = QPushButton("+")
        self.add_button.setToolTip("Create a class")
        self.add_button.setFixedWidth(32)
        self.add_button.clicked.connect(self._on_add)
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.add_button)
        lay.addLayout(head)
        self.list = ClassList(self)
        self.list.ids_dropped.connect(self.ids_dropped)
        self.list.itemChanged.connect(self._on_item_edited)
        self.list.customContextMenuRequested.connect(self._context_menu)
        lay.addWidget(self.list, 1)
        self.values = ValueEntry(self)
        self.values.values_entered.connect(self.values_entered)
        self.values.values_cleared.connect(self.values_cleared)
        lay.addWidget(self.values)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: #5f6b7a; font-size: 9pt;")
        lay.addWidget(self.hint)
        self._spacer = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        lay.addItem(self._spacer)
        self._filling = False
        self.set_project(None)

    # ------------------------------------------------------------------ state
    @property
    def task(self) -> str:
        return self.project.task if self.project is not None else "classification"

    def set_project(self, project) -> None:
        self.project = project
        regression = self.task == "regression"
        seg = self.task == "segmentation"
        self.values.setVisible(regression and project is not None)
        self.list.setMaximumHeight(70 if regression else 16777215)
        grow = QSizePolicy.Policy.Expanding if regression else QSizePolicy.Policy.Fixed
        self._spacer.changeSize(0, 0, QSizePolicy.Policy.Minimum, grow)
        self.layout().invalidate()
        self.add_button.setVisible(project is not None and not regression)
        self.list.accept_drops_on_classes = not seg and not regression
        self.title.setText("Targets" if regression else "Mask classes" if seg else "Classes")
        if project is not None and regression:
            self.values.set_targets(project.targets)
        self.hint.setText(
            ""
            if project is None
            else "Select images, type a number and press Enter."
            if regression
            else "Double-click a class to rename it; right-click to recolour."
            if seg
            else "Drag thumbnails onto a class, or press 1-9 (0 unlabels)."
        )
        self.refresh()

    def class_names(self) -> list[str]:
        return self.project.class_names() if self.project is not None else []

    def refresh(self) -> None:
        """Rebuild the rows from the project (names, colours, counts)."""
        self._filling = True
        selected = {i.data(NAME) for i in self.list.selectedItems()}
        self.list.clear()
        p = self.project
        if p is not None:
            counts = p.counts()
            seg = p.task == "segmentation"
            regression = p.task == "regression"
            for k, c in enumerate(p.classes()):
                item = QListWidgetItem(c.name)
                item.setData(NAME, c.name)
                item.setData(COLOR, c.color)
                item.setData(COUNT, counts.per_class.get(c.name, 0) or (None if seg else 0))
                item.setData(HINT, f"#{c.position}" if seg else str(k + 1) if k < 9 else "")
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
                item.setSelected(c.name in selected)
            if p.task == "regression":
                item = QListWidgetItem("With a value")
                item.setData(NAME, VALUED)
                item.setData(COLOR, "#2f3b4a")
                item.setData(COUNT, counts.total - counts.unlabeled)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
            label = "Without mask" if seg else "Without a value" if regression else "Unlabeled"
            item = QListWidgetItem(label)
            item.setData(NAME, UNLABELED)
            item.setData(COLOR, NEUTRAL)
            item.setData(COUNT, counts.unlabeled)
            item.setData(HINT, "" if seg else "0")
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
        self._filling = False

    def selected_classes(self) -> list[str]:
        special = (UNLABELED, VALUED)
        return [i.data(NAME) for i in self.list.selectedItems() if i.data(NAME) not in special]

    # ------------------------------------------------------------------ class operations
    def add_class(self, name: str) -> bool:
        return self._do(lambda: self.project.add_class(name), f"Created class {name.strip()}")

    def rename_class(self, old: str, new: str) -> bool:
        return self._do(lambda: self.project.rename_class(old, new), f"Renamed {old} to {new}")

    def recolor_class(self, name: str, color: str) -> bool:
        return self._do(lambda: self.project.recolor_class(name, color), f"Recoloured {name}")

    def merge_classes(self, sources: list[str], target: str) -> bool:
        text = f"Merged {', '.join(s for s in sources if s != target)} into {target}"
        return self._do(lambda: self.project.merge_classes(sources, target), text)

    def delete_classes(self, names: list[str]) -> bool:
        def run():
            for n in names:
                self.project.delete_class(n)

        return self._do(run, f"Deleted {', '.join(names)}; their images are unlabeled")

    def _do(self, fn, done: str) -> bool:
        from engine.project.store import ProjectError

        if self.project is None:
            return False
        try:
            fn()
        except ProjectError as e:
            self.message.emit(str(e))
            self.refresh()
            return False
        self.refresh()
        self.classes_changed.emit()
        self.message.emit(done)
        return True

    # ------------------------------------------------------------------ dialogs (patchable)
    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        value, ok = QInputDialog.getText(self, title, label, text=text)
        return value if ok and value.strip() else None

    def ask_choice(self, title: str, label: str, items: list[str]) -> str | None:
        value, ok = QInputDialog.getItem(self, title, label, items, 0, False)
        return value if ok else None

    def ask_color(self, initial: str) -> str | None:
        c = QColorDialog.getColor(qcolor(initial), self, "Class colour")
        return c.name() if c.isValid() else None

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ UI triggers
    def _on_add(self) -> None:
        name = self.ask_text("New class", "Name of the new class:")
        if name:
            self.add_class(name)

    def _on_item_edited(self, item: QListWidgetItem) -> None:
        if self._filling:
            return
        old, new = item.data(NAME), item.text().strip()
        if old in (UNLABELED, VALUED) or new == old:
            return
        # Deferred: refresh() rebuilds the list, which must not happen inside the edit commit.
        if new:
            QTimer.singleShot(0, lambda: self.rename_class(old, new))
        else:
            QTimer.singleShot(0, self.refresh)

    def recolor_ui(self, name: str) -> None:
        current = next((c.color for c in self.project.classes() if c.name == name), NEUTRAL)
        color = self.ask_color(current)
        if color:
            self.recolor_class(name, color)

    def merge_ui(self) -> None:
        names = self.selected_classes()
        if len(names) < 2:
            self.message.emit("Select two or more classes to merge (Ctrl+click).")
            return
        target = self.ask_choice("Merge classes", "Merge the selected classes into:", names)
        if target:
            self.merge_classes(names, target)

    def delete_ui(self) -> None:
        names = self.selected_classes()
        if not names:
            return
        n = sum(self.project.counts().per_class.get(x, 0) for x in names)
        if self.confirm(
            "Delete classes",
            f"Delete {', '.join(names)}? {n:,} labels will be "
            "removed and those images become unlabeled. This cannot be undone.",
        ):
            self.delete_classes(names)

    def _context_menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if self.project is None or item is None or item.data(NAME) in (UNLABELED, VALUED):
            return
        name = item.data(NAME)
        if not item.isSelected():
            self.list.clearSelection()
            item.setSelected(True)
        menu = QMenu(self)
        menu.addAction("Rename…", lambda: self.list.editItem(item))
        menu.addAction("Change colour…", lambda: self.recolor_ui(name))
        if self.task != "segmentation":
            merge = menu.addAction("Merge selected classes…", self.merge_ui)
            merge.setEnabled(len(self.selected_classes()) > 1)
            menu.addSeparator()
            menu.addAction("Delete…", self.delete_ui)
        menu.exec(self.list.viewport().mapToGlobal(pos))

"""The Data page: class panel | filters + thumbnail grid | image viewer.

Every label, value and split change goes through engine.history.History, so Ctrl+Z undoes it;
the page listens to the project's change events and updates the grid rows in place.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QObject, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.browser import ImageBrowser, ImageListModel
from gui.class_panel import UNLABELED, ClassPanel
from gui.thumb_loader import ThumbLoader
from gui.viewer import ImageViewer

SPLITS = ("train", "valid", "test")


class _Relay(QObject):
    """Carries project change events (fired on whatever thread changed it) to the GUI thread."""

    changed = Signal(str, object)


class FilterBar(QWidget):
    """Class / split / file-name filters and the "n of N images" count."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        self.label = QComboBox()
        self.label.setMinimumWidth(140)
        self.split = QComboBox()
        self.split.addItem("All splits", None)
        for s in SPLITS:
            self.split.addItem(s.capitalize(), s)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Filter by file name…")
        self.text.setClearButtonEnabled(True)
        self.text.setMaximumWidth(260)
        self.count = QLabel()
        self.count.setStyleSheet("color: #5f6b7a;")
        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(self.changed)
        self.text.textChanged.connect(self._debounce.start)
        self.label.currentIndexChanged.connect(self.changed)
        self.split.currentIndexChanged.connect(self.changed)
        for w in (self.label, self.split, self.text):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(self.count)

    def set_classes(self, names: list[str], unlabeled_text: str = "Unlabeled") -> None:
        current = self.label.currentData()
        self.label.blockSignals(True)
        self.label.clear()
        self.label.addItem("All images", None)
        self.label.addItem(unlabeled_text, UNLABELED)
        for n in names:
            self.label.addItem(n, n)
        k = self.label.findData(current)
        self.label.setCurrentIndex(max(0, k))
        self.label.blockSignals(False)
        if k < 0 and current is not None:
            self.changed.emit()

    def query_args(self) -> dict:
        lab = self.label.currentData()
        return {
            "label": lab if lab not in (None, UNLABELED) else None,
            "unlabeled": lab == UNLABELED,
            "split": self.split.currentData(),
            "name_contains": self.text.text().strip() or None,
        }

    def active(self) -> bool:
        return any(v for v in self.query_args().values())


class ResplitDialog(QDialog):
    """Validation / test percentages and seed for an automatic, stratified re-split."""

    def __init__(self, parent, valid_pct: float, test_pct: float, seed: int):
        super().__init__(parent)
        self.setWindowTitle("Re-split automatically")
        form = QFormLayout(self)
        self.valid = QDoubleSpinBox(suffix=" %", decimals=0, maximum=90, value=valid_pct * 100)
        self.test = QDoubleSpinBox(suffix=" %", decimals=0, maximum=90, value=test_pct * 100)
        self.seed = QSpinBox(maximum=2**31 - 1, value=seed)
        note = QLabel(
            "Images you moved by hand, or whose split came from train/valid folders, "
            "stay where they are. The split is stratified by label and seeded, "
            "so the same seed gives the same split."
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow("Validation", self.valid)
        form.addRow("Test", self.test)
        form.addRow("Seed", self.seed)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[float, float, int]:
        return self.valid.value() / 100, self.test.value() / 100, self.seed.value()


class DataPage(QWidget):
    """Browse, filter, label and split a project's images."""

    title = "Data"
    status_message = Signal(str)
    counts_changed = Signal()
    history_changed = Signal()  # undo/redo availability changed

    def __init__(self, bridge=None, parent=None):
        super().__init__(parent)
        self.bridge = bridge
        self.project = None
        self.history = None
        self._relay = _Relay(self)
        self._relay.changed.connect(self._on_project_changed)
        self.loader = ThumbLoader(self)
        self.model = ImageListModel(self)

        self.panel = ClassPanel(self)
        self.panel.ids_dropped.connect(self.apply_class)
        self.panel.values_entered.connect(self.apply_values)
        self.panel.values_cleared.connect(lambda: self.apply_values(None))
        self.panel.classes_changed.connect(self._on_classes_changed)
        self.panel.message.connect(self.status_message)

        self.filters = FilterBar(self)
        self.filters.changed.connect(self.apply_filters)
        self.split_button = QToolButton(text="Split ▾")
        self.split_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.split_button.setMenu(self._split_menu(QMenu(self.split_button)))
        self.browser = ImageBrowser(self)
        self.browser.setModel(self.model)
        self.browser.number_key.connect(self.label_with_key)
        self.browser.clear_key.connect(self.unlabel_selected)
        self.browser.undo_key.connect(self.undo)
        self.browser.redo_key.connect(self.redo)
        self.browser.open_requested.connect(self.open_viewer)
        self.browser.customContextMenuRequested.connect(self._context_menu)
        self.browser.selectionModel().currentChanged.connect(self._on_current_changed)
        self.empty = QLabel(alignment=Qt.AlignmentFlag.AlignCenter, wordWrap=True)
        self.empty.setStyleSheet("color: #7a8491; font-size: 12pt;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.browser)

        center = QWidget()
        cl = QVBoxLayout(center)
        cl.setContentsMargins(8, 8, 8, 8)
        cl.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(self.filters, 1)
        top.addWidget(self.split_button)
        cl.addLayout(top)
        cl.addWidget(self.stack, 1)

        self.viewer = ImageViewer(self)
        self.viewer.hide()
        self.viewer.closed.connect(self.browser.setFocus)
        self.viewer.step.connect(self._step)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        for w in (self.panel, center, self.viewer):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([230, 800, 0])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.splitter)

        self._counts_timer = QTimer(self, singleShot=True, interval=150)
        self._counts_timer.timeout.connect(self.refresh_counts)
        self._requery_timer = QTimer(self, singleShot=True, interval=300)
        self._requery_timer.timeout.connect(self.requery)
        self.set_project(None)

    # ------------------------------------------------------------------ project
    def set_project(self, project) -> None:
        """Show `project` (or nothing); a new History starts with each project."""
        from engine.history import History

        if self.project is not None:
            self.project.unsubscribe(self._listen)
        self.project = project
        self.history = History(project) if project is not None else None
        self.model.set_project(project, self.loader)
        self.panel.set_project(project)
        self.viewer.set_project(project)
        self.viewer.hide()
        if project is not None:
            project.subscribe(self._listen)
        self._fill_filters()
        self.apply_filters()
        self.history_changed.emit()

    def _listen(self, kind: str, ids) -> None:
        self._relay.changed.emit(kind, ids)  # queued when called from a worker thread

    def _fill_filters(self) -> None:
        seg = self.project is not None and self.project.task == "segmentation"
        reg = self.project is not None and self.project.task == "regression"
        names = self.project.class_names() if self.project is not None and not reg else []
        self.filters.set_classes(
            names, "Without mask" if seg else "Without a value" if reg else "Unlabeled"
        )

    def apply_filters(self) -> None:
        """Re-run the query for the current filters (a full model reset)."""
        p = self.project
        self.model.set_ids(p.query(**self.filters.query_args()) if p is not None else [])
        self.refresh_counts()

    def requery(self) -> None:
        """Re-run the query keeping selection and scroll (rows removed/inserted in place)."""
        if self.project is not None:
            self.model.update_ids(self.project.query(**self.filters.query_args()))
            self._update_count_label()

    def refresh_counts(self) -> None:
        self.panel.refresh()
        self._update_count_label()
        self.counts_changed.emit()

    def _update_count_label(self) -> None:
        p = self.project
        total = p.count() if p is not None else 0
        shown = self.model.rowCount()
        self.filters.count.setText(
            f"{total:,} images" if shown == total else f"{shown:,} of {total:,} images"
        )
        if p is None:
            self.empty.setText("Open or create a project to see its images.")
        elif total == 0:
            self.empty.setText("No images yet.\nImport a folder of images to start labelling.")
        else:
            self.empty.setText("No image matches these filters.")
        self.stack.setCurrentWidget(self.browser if shown else self.empty)

    @Slot(str, object)
    def _on_project_changed(self, kind: str, ids) -> None:
        if kind == "classes":
            self._on_classes_changed()
            return
        if kind == "images":
            self._requery_timer.start()
        elif kind in ("labels", "splits"):
            self.model.refresh(ids)
            if self.filters.active():
                self.requery()
            rec = self.viewer.record
            if self.viewer.isVisible() and rec is not None and (ids is None or rec.id in ids):
                self.viewer.show_record(self.project.image(rec.id))
        self._counts_timer.start()

    def _on_classes_changed(self) -> None:
        self.model.refresh_classes()
        self.model.refresh(None)
        self._fill_filters()
        if self.viewer.isVisible():
            self.viewer.refresh_overlay()
        self._counts_timer.start()

    # ------------------------------------------------------------------ labelling
    def selected_ids(self) -> list[int]:
        return self.browser.selected_ids()

    def _edit(self, fn, done: str) -> None:
        """Run one History edit; keep the cursor on the next image when rows leave the view."""
        from engine.project import ProjectError

        if self.history is None:
            return
        row = min((i.row() for i in self.browser.selectionModel().selectedIndexes()), default=-1)
        n = self.model.rowCount()
        try:
            fn()
        except ProjectError as e:
            self.status_message.emit(str(e))
            return
        if row >= 0 and self.model.rowCount() < n:  # labelled rows left the filter
            nxt = self.model.index(min(row, self.model.rowCount() - 1))
            if nxt.isValid():
                self.browser.setCurrentIndex(nxt)
        self.status_message.emit(done)
        self.history_changed.emit()

    def apply_class(self, name: str, ids: list[int]) -> None:
        """Label `ids` with class `name` ("" unlabels); multi-label toggles that label."""
        task = self.project.task if self.project else ""
        if not ids or task in ("regression", "segmentation"):
            return
        h = self.history
        if name == UNLABELED:
            self._edit(lambda: h.set_labels(ids, []), f"Unlabelled {len(ids):,} images")
        elif task == "multilabel":
            recs = self.project.images(ids)
            on = not all(name in r.labels for r in recs)
            verb = "Added" if on else "Removed"
            self._edit(
                lambda: h.toggle_label(ids, name, on), f"{verb} {name} on {len(ids):,} images"
            )
        else:
            self._edit(lambda: h.set_labels(ids, [name]), f"Labelled {len(ids):,} images as {name}")

    def label_with_key(self, n: int) -> None:
        if self.project is None:
            return
        if self.project.task == "regression":
            self.status_message.emit("Regression: type the value in the panel on the left.")
            return
        if self.project.task == "segmentation":
            self.status_message.emit("Segmentation labels are masks; keys do not change them.")
            return
        names = self.project.class_names()
        if n > len(names):
            self.status_message.emit(f"There is no class {n}; create it with + first.")
            return
        self.apply_class(names[n - 1], self.selected_ids())

    def unlabel_selected(self) -> None:
        if self.project is None or not self.selected_ids():
            return
        if self.project.task == "regression":
            self.apply_values(None)
        elif self.project.task != "segmentation":
            self.apply_class(UNLABELED, self.selected_ids())

    def apply_values(self, values: list[float] | None) -> None:
        ids = self.selected_ids()
        if not ids:
            self.status_message.emit("Select the images to set first.")
            return
        text = "cleared" if values is None else ", ".join(f"{v:g}" for v in values)
        self._edit(
            lambda: self.history.set_values(ids, values), f"Value of {len(ids):,} images: {text}"
        )

    def move_selected_to(self, split: str) -> None:
        ids = self.selected_ids()
        if ids:
            self._edit(
                lambda: self.history.set_split(ids, split), f"Moved {len(ids):,} images to {split}"
            )

    def resplit(self) -> None:
        """Ask for percentages and seed, then re-assign the automatic splits."""
        from engine.config import TrainConfig

        if self.project is None:
            return
        cfg = TrainConfig.from_dict(self.project.load_settings())
        dlg = ResplitDialog(self, cfg.valid_pct, cfg.test_pct, cfg.seed)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.resplit_with(*dlg.values())

    def resplit_with(self, valid_pct: float, test_pct: float, seed: int) -> None:
        from engine.project import ProjectError

        try:
            self.project.assign_splits(valid_pct, test_pct, seed, relock=True)
        except ProjectError as e:
            QMessageBox.warning(self, "Re-split", str(e))
            return
        c = self.project.counts().per_split
        self.status_message.emit("Re-split: " + ", ".join(f"{c.get(s, 0):,} {s}" for s in SPLITS))

    # ------------------------------------------------------------------ undo / redo
    @Slot()
    def undo(self) -> None:
        self._history_step(True)

    @Slot()
    def redo(self) -> None:
        self._history_step(False)

    def _history_step(self, back: bool) -> None:
        from engine.project import ProjectError

        if self.history is None:
            return
        try:
            text = self.history.undo() if back else self.history.redo()
        except ProjectError as e:
            self.status_message.emit(f"Cannot {'undo' if back else 'redo'}: {e}")
            return
        if text:
            self.status_message.emit(f"{'Undid' if back else 'Redid'}: {text}")
        self.history_changed.emit()

    # ------------------------------------------------------------------ viewer and menus
    def open_viewer(self, index=None) -> None:
        index = index if index is not None else self.browser.currentIndex()
        if self.project is None or not index.isValid():
            return
        if self.browser.currentIndex() != index:  # Left/Right in the viewer step from here
            self.browser.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )
        self.viewer.show_record(self.model.record(index.row()))
        if not self.viewer.isVisible():
            self.viewer.show()
            total = sum(self.splitter.sizes())
            self.splitter.setSizes([230, max(300, total - 230 - 520), 520])
        self.viewer.fit()

    def _on_current_changed(self, current, _previous) -> None:
        rec = self.model.record(current.row()) if current.isValid() else None
        if rec is not None and rec.values is not None:
            self.panel.values.set_values(list(rec.values))
        if self.viewer.isVisible() and current.isValid():
            self.viewer.show_record(self.model.record(current.row()))

    def _step(self, delta: int) -> None:
        row = self.browser.currentIndex().row() + delta
        if 0 <= row < self.model.rowCount():
            self.browser.setCurrentIndex(self.model.index(row))

    def _split_menu(self, menu: QMenu) -> QMenu:
        for s in SPLITS:
            menu.addAction(f"Move to {s}", lambda s=s: self.move_selected_to(s))
        menu.addSeparator()
        menu.addAction("Re-split automatically…", self.resplit)
        return menu

    def build_context_menu(self) -> QMenu | None:
        """The grid's right-click menu for the current selection."""
        if self.project is None:
            return None
        menu = QMenu(self)
        if self.selected_ids():
            menu.addAction("Open", self.open_viewer)
            if self.project.task in ("classification", "multilabel"):
                sub = menu.addMenu("Label as")
                for k, n in enumerate(self.project.class_names()):
                    key = f"\t{k + 1}" if k < 9 else ""
                    sub.addAction(f"{n}{key}", lambda n=n: self.apply_class(n, self.selected_ids()))
                menu.addAction("Unlabel\t0", self.unlabel_selected)
            menu.addSeparator()
        self._split_menu(menu)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.build_context_menu()
        if menu is not None:
            menu.exec(self.browser.viewport().mapToGlobal(pos))


def _main(argv: list[str]) -> int:
    """Open the project folder given on argv in a bare window (for a look during development)."""
    import sys

    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QApplication, QMainWindow

    from engine.project import Project

    app = QApplication(argv)
    win = QMainWindow()
    page = DataPage(None)
    win.setCentralWidget(page)
    edit = win.menuBar().addMenu("&Edit")
    edit.addAction("Undo", QKeySequence.StandardKey.Undo, page.undo)
    edit.addAction("Redo", QKeySequence.StandardKey.Redo, page.redo)
    page.status_message.connect(lambda m: win.statusBar().showMessage(m, 5000))
    if len(argv) > 1:
        page.set_project(Project.open(argv[1]))
    win.resize(1280, 800)
    win.show()
    code = app.exec()
    page.loader.shutdown()
    sys.stdout.flush()
    return code


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv))

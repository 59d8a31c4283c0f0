"""The Data page: class panel | filters + thumbnail grid | image viewer.

Every label, value and split change goes through the app state's undo history (gui.state), so
Ctrl+Z undoes it; the page listens to the project's change events, relayed by the state to the
GUI thread, and updates the grid rows in place. Its helpers take the state (and the bridge, the
grid) and emit signals that the page wires here: the editing actions (gui.data.actions,
`edits`), "Most uncertain first" (gui.data.uncertain) and "Label next" (gui.data.label_next).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.common.project_page import ProjectPage
from gui.data.actions import DataActions
from gui.data.browser import ImageBrowser
from gui.data.class_panel import UNLABELED, ClassPanel
from gui.data.filter_bar import FilterBar
from gui.data.image_model import ImageListModel
from gui.data.label_next import LabelNext
from gui.data.thumb_loader import ThumbLoader
from gui.data.uncertain import UncertainSort, offer_training
from gui.data.viewer import ImageViewer
from gui.state import AppState


class DataPage(ProjectPage, QWidget):
    """Browse, filter, label and split a project's images."""

    title = "Data"
    status_message = Signal(str)
    counts_changed = Signal()

    def __init__(self, bridge=None, state: AppState | None = None, parent=None):
        super().__init__(parent)
        self.bridge = bridge
        self._use_state(state)
        self.loader = ThumbLoader(self)
        self.model = ImageListModel(self)
        self.train_offer = None  # the last "train first" box shown

        self.panel = ClassPanel(self)
        self.panel.classes_changed.connect(self._on_classes_changed)
        self.panel.message.connect(self.status_message)
        self.panel.setMinimumWidth(200)  # class names and their counts stay readable

        self.filters = FilterBar(self)
        self.filters.changed.connect(self.apply_filters)
        self.split_button = QToolButton(text="Split ▾")
        self.split_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.browser = ImageBrowser(self)
        self.browser.setModel(self.model)
        self.edits = DataActions(self.state, self.browser, self)  # labels, splits, removing
        self.edits.message.connect(self.status_message)
        self.edits.open_requested.connect(self.open_viewer)
        self.edits.removing.connect(self._close_viewer_on)
        self.edits.removed.connect(self.requery)
        self.panel.ids_dropped.connect(self.edits.apply_class)
        self.panel.values_entered.connect(self.edits.apply_values)
        self.panel.values_cleared.connect(lambda: self.edits.apply_values(None))
        self.split_button.setMenu(self.edits.split_menu(QMenu(self.split_button)))
        self.browser.number_key.connect(self.edits.label_with_key)
        self.browser.clear_key.connect(self.edits.unlabel_selected)
        self.browser.delete_key.connect(self.edits.remove_selected)
        self.browser.undo_key.connect(self.state.undo)
        self.browser.redo_key.connect(self.state.redo)
        self.browser.open_requested.connect(self.open_viewer)
        self.browser.customContextMenuRequested.connect(self.edits.show_context_menu)
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
        cl.addWidget(self.filters)  # filters on a row of their own, the count and buttons below
        top = QHBoxLayout()
        top.addWidget(self.filters.count, 1)
        self.uncertain = UncertainSort(self.state, bridge, self)  # "Most uncertain first"
        self.uncertain.message.connect(self.filters.count.setText)
        self.uncertain.train_first.connect(self._offer_training)
        self.uncertain.ranked.connect(self._on_ranked)
        top.addWidget(self.uncertain.button)
        self.label_next = LabelNext(self.state, self.uncertain, self)  # N: the most uncertain
        self.label_next.open_image.connect(self._label_image)
        self.label_next.message.connect(self._label_next_said)
        self.label_next.train_first.connect(self._offer_training)
        top.addWidget(self.label_next.button)
        top.addWidget(self.split_button)
        cl.addLayout(top)
        cl.addWidget(self.stack, 1)

        self.viewer = ImageViewer(self)
        self.viewer.editor.set_state(self.state)
        self.viewer.editor.message.connect(self.status_message)
        self.viewer.editor.assist.go_to.connect(self.go_to_image)
        if bridge is not None:
            self.viewer.editor.assist.set_bridge(bridge)
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
        self.state.changed.connect(self._on_project_changed)
        self._follow_project()

    # ------------------------------------------------------------------ project
    def shutdown(self) -> None:
        """Stop the thumbnail threads (the window calls this on close)."""
        self.loader.shutdown()

    @Slot(object)
    def _show_project(self, project) -> None:
        """Show `project` (or nothing) from the top: all images, no filter, viewer closed."""
        self._counts_timer.stop()
        self._requery_timer.stop()
        self.model.set_project(project, self.loader)
        self.panel.set_project(project)
        self.viewer.set_project(project)
        self.viewer.hide()
        self.filters.reset()
        self._fill_filters()
        self.apply_filters()

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
        ids = p.query(**self.filters.query_args()) if p is not None else []
        self.model.set_ids(self._ordered(ids))
        self.refresh_counts()

    @Slot()
    @Slot(list)
    def requery(self, *_removed) -> None:
        """Re-run the query keeping selection and scroll (rows removed/inserted in place)."""
        if self.project is not None:
            ids = self.project.query(**self.filters.query_args())
            self.model.update_ids(self._ordered(ids))
            self._update_count_label()

    def _ordered(self, ids: list[int]) -> list[int]:
        """The "Most uncertain first" order while it is on (it is, for the unlabeled filter)."""
        return self.uncertain.order(ids, self.filters.label.currentData() == UNLABELED)

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

    # ------------------------------------------------------------------ helpers' requests
    @Slot(str)
    def _offer_training(self, text: str) -> None:
        """No model yet (Label next, Most uncertain first): offer the Train page."""
        self.train_offer = offer_training(self, self.state, text)

    @Slot(bool)
    def _on_ranked(self, sort_grid: bool) -> None:
        """A ranking arrived: show the unlabeled images in its order, or just the counts."""
        if not sort_grid:
            self.refresh_counts()
            return
        label = self.filters.label
        label.blockSignals(True)
        label.setCurrentIndex(max(0, label.findData(UNLABELED)))
        label.blockSignals(False)
        self.apply_filters()

    @Slot(int)
    def _label_image(self, image_id: int) -> None:
        """Label next's image: in the mask editor for segmentation, else under the grid's
        cursor, so keys 1-9 label it."""
        self.go_to_image(image_id)
        if self.project is not None and self.project.task == "segmentation":
            self.viewer.editor.set_painting(True)
            self.viewer.setFocus()
        else:
            self.browser.setFocus()

    @Slot(str, str)
    def _label_next_said(self, short: str, full: str) -> None:
        self.filters.count.setText(short)
        if full != short:
            self.filters.count.setToolTip(full)  # the short text keeps the filter bar narrow
        self.status_message.emit(full)

    @Slot(list)
    def _close_viewer_on(self, ids: list) -> None:
        """Images are leaving the project: close the viewer if it shows one of them."""
        if self.viewer.record is not None and self.viewer.record.id in ids:
            self.viewer.hide()

    # ------------------------------------------------------------------ viewer
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
            panel = min(230, max(210, self.splitter.sizes()[0]))
            view = max(440, min(600, (total - panel) // 2))
            self.splitter.setSizes([panel, max(300, total - panel - view), view])
            self.browser.doItemsLayout()  # the grid is narrower now: keep the image in sight
            self.browser.scrollTo(index)
        self.viewer.fit()

    def _on_current_changed(self, current, _previous) -> None:
        rec = self.model.record(current.row()) if current.isValid() else None
        if rec is not None and rec.values is not None:
            self.panel.values.set_values(list(rec.values))
        if self.viewer.isVisible() and current.isValid():
            self.viewer.show_record(self.model.record(current.row()))

    def go_to_image(self, image_id: int) -> None:
        """Show image `image_id` in the viewer (clearing the filters if they hide it)."""
        if self.model.row_of(image_id) is None:
            self.filters.reset()
            self.apply_filters()
        row = self.model.row_of(image_id)
        if row is not None:
            self.browser.setCurrentIndex(self.model.index(row))
            self.open_viewer(self.model.index(row))

    def _step(self, delta: int) -> None:
        row = self.browser.currentIndex().row() + delta
        if 0 <= row < self.model.rowCount():
            self.browser.setCurrentIndex(self.model.index(row))


def _main(argv: list[str]) -> int:
    """Open the project folder given on argv in a bare window (for a look during development)."""
    import sys

    from PySide6.QtGui import QKeySequence
    from PySide6.QtWidgets import QApplication, QMainWindow

    from engine.project.store import Project

    app = QApplication(argv)
    win = QMainWindow()
    page = DataPage(None)
    win.setCentralWidget(page)
    edit = win.menuBar().addMenu("&Edit")
    edit.addAction("Undo", QKeySequence.StandardKey.Undo, page.state.undo)
    edit.addAction("Redo", QKeySequence.StandardKey.Redo, page.state.redo)
    for messages in (page.status_message, page.state.message):
        messages.connect(lambda m: win.statusBar().showMessage(m, 5000))
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

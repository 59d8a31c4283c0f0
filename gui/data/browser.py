"""The thumbnail browser: the QListView that shows an ImageListModel as a virtualized grid.

The model (gui.data.image_model) and the tile painting (gui.data.thumb_delegate) live in their own
modules.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QListView

from gui.data.thumb_delegate import ThumbDelegate


class ImageBrowser(QListView):
    """A virtualized grid of thumbnails. Number keys, 0/Backspace, Enter and undo/redo are
    reported as signals; the page decides what they do."""

    number_key = Signal(int)  # 1..9
    clear_key = Signal()  # 0 or Backspace
    delete_key = Signal()  # Delete: remove the selected images from the project
    open_requested = Signal(QModelIndex)  # double-click or Enter
    undo_key = Signal()
    redo_key = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(1000)
        self.setWrapping(True)
        self.setSpacing(6)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setSelectionRectVisible(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalScrollBar().setSingleStep(24)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setItemDelegate(ThumbDelegate(self))
        self.setMouseTracking(True)
        self.doubleClicked.connect(self.open_requested)

    def selected_ids(self) -> list[int]:
        model = self.model()
        rows = sorted(i.row() for i in self.selectionModel().selectedIndexes())
        return [model.id_at(r) for r in rows] if model is not None else []

    def event(self, e) -> bool:
        # Claim undo/redo while the grid has focus, so a window-wide shortcut does not clash.
        if e.type() == e.Type.ShortcutOverride and (
            e.matches(QKeySequence.StandardKey.Undo) or e.matches(QKeySequence.StandardKey.Redo)
        ):
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e) -> None:
        key, mods = e.key(), e.modifiers()
        plain = not (mods & ~Qt.KeyboardModifier.KeypadModifier)
        if e.matches(QKeySequence.StandardKey.Redo):
            self.redo_key.emit()
        elif e.matches(QKeySequence.StandardKey.Undo):
            self.undo_key.emit()
        elif plain and Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
            self.number_key.emit(int(key - Qt.Key.Key_0))
        elif plain and key in (Qt.Key.Key_0, Qt.Key.Key_Backspace):
            self.clear_key.emit()
        elif plain and key == Qt.Key.Key_Delete:
            self.delete_key.emit()
        elif plain and key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self.currentIndex().isValid():
                self.open_requested.emit(self.currentIndex())
        else:
            super().keyPressEvent(e)

"""The class list of the Data page's class panel: one compact row per class (swatch, name,
image count, key hint), and thumbnails dropped on a row to label them. The item roles and the
names of the special rows are defined here."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
)

from gui.common.colors import qcolor
from gui.data.image_model import MIME_IDS, ids_from_mime
from gui.theme import paint_color

NAME, COLOR, COUNT, HINT = (Qt.ItemDataRole.UserRole + k for k in range(4))
UNLABELED = ""  # the name carried by the "Unlabeled" row
VALUED = "\x00valued"  # regression: the "With a value" row (never a class name)


class _ClassDelegate(QStyledItemDelegate):
    """Swatch · name · count · key hint, on one compact row."""

    def sizeHint(self, option, index) -> QSize:
        return QSize(180, 30)

    def paint(self, painter: QPainter, option, index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = option.rect
        pal = option.palette
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(r, pal.color(QPalette.ColorRole.Highlight).lighter(180))
        elif getattr(option.widget, "drop_row", -1) == index.row():  # drop target
            painter.fillRect(r, paint_color("#dbeafe"))
        name = index.data(NAME)
        swatch = QRectF(r.left() + 8, r.center().y() - 7, 14, 14)
        painter.setPen(QColor(0, 0, 0, 40))
        painter.setBrush(qcolor(index.data(COLOR)))
        painter.drawRoundedRect(swatch, 3, 3)
        fm = painter.fontMetrics()
        hint = index.data(HINT) or ""
        count = f"{index.data(COUNT):,}" if index.data(COUNT) is not None else ""
        right = r.right() - 8
        if hint:
            hw = fm.horizontalAdvance(hint) + 10
            key = QRect(right - hw, r.center().y() - 9, hw, 18)
            painter.setPen(paint_color("#c3c9d1"))
            painter.setBrush(paint_color("#f4f5f7"))
            painter.drawRoundedRect(QRectF(key), 4, 4)
            painter.setPen(paint_color("#5f6b7a"))
            painter.drawText(key, Qt.AlignmentFlag.AlignCenter, hint)
            right = key.left() - 8
        painter.setPen(paint_color("#5f6b7a"))
        cw = fm.horizontalAdvance(count)
        painter.drawText(
            QRect(right - cw, r.top(), cw, r.height()), Qt.AlignmentFlag.AlignVCenter, count
        )
        text_rect = QRect(
            int(swatch.right()) + 8, r.top(), right - cw - swatch.right() - 16, r.height()
        )
        painter.setPen(paint_color("#7a8491") if name == UNLABELED else paint_color("#1f2933"))
        label = index.data(Qt.ItemDataRole.DisplayRole)
        painter.drawText(
            text_rect,
            Qt.AlignmentFlag.AlignVCenter,
            fm.elidedText(label, Qt.TextElideMode.ElideRight, text_rect.width()),
        )
        painter.restore()

    def updateEditorGeometry(self, editor, option, index) -> None:
        editor.setGeometry(option.rect.adjusted(28, 2, -60, -2))


class ClassList(QListWidget):
    """The list of classes; accepts drops of browser thumbnails onto a class row."""

    ids_dropped = Signal(str, list)  # class name ("" = unlabel), image ids

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setItemDelegate(_ClassDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.setAcceptDrops(True)
        self.setDropIndicatorShown(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.accept_drops_on_classes = True
        self.drop_row = -1  # row under a drag, highlighted by the delegate

    def _target(self, e) -> QListWidgetItem | None:
        item = self.itemAt(e.position().toPoint())
        if item is None or not self.accept_drops_on_classes:
            return None
        return item

    def _set_hover(self, item: QListWidgetItem | None) -> None:
        row = self.row(item) if item is not None else -1
        if row != self.drop_row:
            self.drop_row = row
            self.viewport().update()

    def dragEnterEvent(self, e) -> None:
        if e.mimeData().hasFormat(MIME_IDS) and self.accept_drops_on_classes:
            e.acceptProposedAction()
        else:
            e.ignore()

    def dragMoveEvent(self, e) -> None:
        item = self._target(e)
        self._set_hover(item)
        if item is not None and e.mimeData().hasFormat(MIME_IDS):
            e.setDropAction(Qt.DropAction.CopyAction)
            e.accept()
        else:
            e.ignore()

    def dragLeaveEvent(self, e) -> None:
        self._set_hover(None)
        super().dragLeaveEvent(e)

    def dropEvent(self, e) -> None:
        item = self._target(e)
        self._set_hover(None)
        ids = ids_from_mime(e.mimeData())
        if item is None or not ids:
            e.ignore()
            return
        e.setDropAction(Qt.DropAction.CopyAction)
        e.accept()
        self.ids_dropped.emit(item.data(NAME), ids)

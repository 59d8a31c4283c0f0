"""How one tile of the thumbnail grid is painted: thumbnail, split tag, mask badge, label
chips and the file name."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from gui.common.colors import SPLIT_COLORS, text_color_for
from gui.data.image_model import ImageListModel
from gui.theme import paint_color


class ThumbDelegate(QStyledItemDelegate):
    """Paints one tile: thumbnail (or placeholder / 'cannot read'), split tag, mask badge,
    label chips (class colour + name, several for multi-label, the number for regression)
    and the file name."""

    THUMB = 128
    PAD = 8
    CHIP_H = 20

    def sizeHint(self, option, index) -> QSize:
        return QSize(self.THUMB + 2 * self.PAD, self.THUMB + 2 * self.PAD + self.CHIP_H + 22)

    def paint(self, painter: QPainter, option, index: QModelIndex) -> None:
        model = index.model()
        rec = index.data(ImageListModel.RecordRole)
        r = option.rect.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        hover = bool(option.state & QStyle.StateFlag.State_MouseOver)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = option.palette.color(QPalette.ColorRole.Highlight)
        bg = QColor(accent).lighter(185) if selected else paint_color("#ffffff")
        painter.setPen(QPen(accent, 2) if selected else QPen(paint_color("#d9dde3"), 1))
        if hover and not selected:
            painter.setPen(QPen(paint_color("#aab3bf"), 1))
        painter.setBrush(bg)
        painter.drawRoundedRect(QRectF(r), 7, 7)

        box = QRect(r.left() + self.PAD - 2, r.top() + self.PAD - 2, self.THUMB, self.THUMB)
        self._paint_thumb(painter, box, index)
        if rec is not None:
            self._paint_tags(painter, box, rec)
            y = box.bottom() + 6
            self._paint_chips(painter, QRect(box.left(), y, box.width(), self.CHIP_H), rec, model)
            font = QFont(option.font)
            font.setPointSizeF(max(7.0, font.pointSizeF() - 1))
            painter.setFont(font)
            painter.setPen(paint_color("#5f6b7a"))
            name_rect = QRect(box.left(), y + self.CHIP_H + 2, box.width(), 16)
            text = QFontMetrics(font).elidedText(
                rec.name, Qt.TextElideMode.ElideMiddle, name_rect.width()
            )
            painter.drawText(name_rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()

    def _paint_thumb(self, painter: QPainter, box: QRect, index: QModelIndex) -> None:
        pm = index.data(ImageListModel.ThumbRole)
        if isinstance(pm, QPixmap) and not pm.isNull():
            scaled = pm.size().scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(box.center())
            painter.drawPixmap(target, pm)
            return
        error = index.data(ImageListModel.ThumbErrorRole)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(paint_color("#fdecec") if error else paint_color("#eef0f3"))
        painter.drawRoundedRect(QRectF(box), 4, 4)
        if error:
            painter.setPen(QColor("#b42318"))
            painter.drawText(
                box.adjusted(6, 6, -6, -6),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "⚠\ncannot read",
            )

    def _pill(self, painter: QPainter, rect: QRect, text: str, color: QColor) -> int:
        """Draw a rounded pill; returns its width."""
        fm = painter.fontMetrics()
        w = min(rect.width(), fm.horizontalAdvance(text) + 12)
        pill = QRect(rect.left(), rect.top(), w, rect.height())
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(color)
        painter.drawRoundedRect(QRectF(pill), rect.height() / 2, rect.height() / 2)
        painter.setPen(text_color_for(color))
        shown = fm.elidedText(text, Qt.TextElideMode.ElideRight, w - 10)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, shown)
        return w

    def _paint_tags(self, painter: QPainter, box: QRect, rec) -> None:
        font = painter.font()
        font.setPointSizeF(max(6.5, font.pointSizeF() - 2))
        painter.setFont(font)
        split_color = QColor(SPLIT_COLORS.get(rec.split, "#5b6b7f"))
        split_color.setAlpha(225)
        self._pill(painter, QRect(box.left() + 4, box.top() + 4, 60, 16), rec.split, split_color)
        if rec.mask:
            w = painter.fontMetrics().horizontalAdvance("mask") + 12
            self._pill(
                painter,
                QRect(box.right() - 3 - w, box.top() + 4, w, 16),
                "mask",
                QColor(20, 20, 20, 190),
            )

    def _paint_chips(self, painter: QPainter, rect: QRect, rec, model) -> None:
        font = painter.font()
        font.setPointSizeF(font.pointSizeF() + 1)
        font.setBold(True)
        painter.setFont(font)
        if rec.values is not None:
            text = ", ".join(f"{v:.4g}" for v in rec.values)
            self._pill(painter, rect, text, QColor("#2f3b4a"))
            return
        if model.task == "segmentation" or not rec.labels:
            has_mask = model.task == "segmentation" and rec.mask
            painter.setPen(QColor("#3d7a4f") if has_mask else QColor("#9aa3ad"))
            font.setBold(False)
            font.setItalic(not has_mask)
            painter.setFont(font)
            text = (
                ("mask ✓" if has_mask else "no mask")
                if model.task == "segmentation"
                else "unlabeled"
            )
            painter.drawText(rect, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, text)
            return
        fm = painter.fontMetrics()
        x, right = rect.left(), rect.right()
        for k, name in enumerate(rec.labels):
            rest = len(rec.labels) - k
            w = fm.horizontalAdvance(name) + 12
            more_w = fm.horizontalAdvance(f"+{rest}") + 12 if rest > 1 else 0
            fits = x + w <= right and (rest == 1 or x + w + 4 + more_w <= right)
            if not fits and k > 0:  # no room for this one: say how many are left
                if x + fm.horizontalAdvance(f"+{rest}") + 12 <= right:
                    self._pill(
                        painter,
                        QRect(x, rect.top(), right - x, rect.height()),
                        f"+{rest}",
                        paint_color("#5f6b7a"),
                    )
                break
            color = model.class_colors.get(name, QColor("#9aa3ad"))
            box = QRect(x, rect.top(), right - x - (more_w + 4 if not fits else 0), rect.height())
            x += self._pill(painter, box, name, color) + 4

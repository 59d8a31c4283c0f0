"""The mask overlay as a graphics item that repaints only what changed.

`MaskLayer` keeps the class-index mask and a premultiplied ARGB32 QImage of its colours side by
side; a brush dab recolours just its box of the QImage (a numpy view of the QImage's memory) and
asks the scene to repaint that box. Drawing is nearest-neighbour, so at any zoom a mask pixel is
a crisp square in its class colour, never a blend of two classes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsEllipseItem, QGraphicsItem, QStyleOptionGraphicsItem

from gui.common.overlay import IGNORE_INDEX, hex_to_rgb

Box = tuple[int, int, int, int]


def bgra_lut(colors: Mapping[int, str], hidden: Collection[int] = ()) -> np.ndarray:
    """256x4 lookup, value -> premultiplied B, G, R, A bytes (opaque; the item sets opacity).
    Values without a colour, hidden ones and IGNORE_INDEX stay transparent."""
    lut = np.zeros((256, 4), np.uint8)
    for v, c in colors.items():
        if 0 <= v < IGNORE_INDEX and v not in hidden:
            r, g, b = hex_to_rgb(c)
            lut[v] = (b, g, r, 255)
    return lut


class MaskLayer(QGraphicsItem):
    """A class-index mask drawn in class colours, one scene unit per mask pixel."""

    def __init__(self, parent: QGraphicsItem | None = None):
        super().__init__(parent)
        self.mask: np.ndarray | None = None
        self.lut = np.zeros((256, 4), np.uint8)
        self.image = QImage()
        self._px: np.ndarray | None = None  # HxWx4 view of self.image's pixels
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)

    # ------------------------------------------------------------------ content
    def set_mask(self, mask: np.ndarray | None, lut: np.ndarray | None = None) -> None:
        """Show `mask` (kept by reference: paint into `self.mask`, then call `refresh(box)`)."""
        self.prepareGeometryChange()
        if lut is not None:
            self.lut = lut
        self.mask = mask
        if mask is None:
            self.image, self._px = QImage(), None
        else:
            h, w = mask.shape
            self.image = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
            bpl = self.image.bytesPerLine()
            raw = np.frombuffer(self.image.bits(), np.uint8).reshape(h, bpl)
            self._px = raw[:, : w * 4].reshape(h, w, 4)
            self._px[:] = self.lut[mask]
        self.update()

    def set_lut(self, lut: np.ndarray) -> None:
        self.lut = lut
        if self.mask is not None:
            self._px[:] = lut[self.mask]
        self.update()

    def refresh(self, box: Box) -> None:
        """Recolour the mask's pixels in `box` (y0, x0, y1, x1) and repaint just them."""
        y0, x0, y1, x1 = box
        if self.mask is None or y1 <= y0 or x1 <= x0:
            return
        self._px[y0:y1, x0:x1] = self.lut[self.mask[y0:y1, x0:x1]]
        self.update(QRectF(x0, y0, x1 - x0, y1 - y0))

    # ------------------------------------------------------------------ QGraphicsItem
    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt name)
        if self.mask is None:
            return QRectF()
        return QRectF(0, 0, self.mask.shape[1], self.mask.shape[0])

    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        if self.image.isNull():
            return
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        r = option.exposedRect.intersected(self.boundingRect()).toAlignedRect()
        if r.isEmpty():
            return
        painter.drawImage(QRectF(r), self.image, QRectF(r))


class BrushCursor(QGraphicsEllipseItem):
    """The brush outline under the mouse: a circle of the brush's size on whole pixels."""

    def __init__(self):
        super().__init__()
        pen = QPen(QColor(255, 255, 255, 230), 1.5)
        pen.setCosmetic(True)  # 1.5 screen pixels at any zoom
        self.setPen(pen)
        self.setZValue(10)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.hide()

    def place(self, x: float, y: float, size: int, color: str) -> None:
        import math

        cx, cy = math.floor(x) + 0.5, math.floor(y) + 0.5
        r = max(0.5, size / 2.0)
        self.setRect(QRectF(cx - r, cy - r, 2 * r, 2 * r))
        pen = self.pen()
        pen.setColor(QColor(color))
        self.setPen(pen)
        self.show()

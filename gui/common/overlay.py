"""Segmentation masks as coloured overlays (numpy core + QImage/QPixmap helpers).

A mask is an HxW uint8 array of class indices (255 = unlabeled). Each class gets its project
colour ('#rrggbb'); hidden classes and unlabeled pixels stay transparent. The one overlay
implementation: the Data page's viewer, the Evaluate page and the Predict page all draw with it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QCheckBox, QLabel, QSizePolicy, QVBoxLayout, QWidget

from gui.common.colors import qcolor

IGNORE_INDEX = 255  # unlabeled mask pixels (engine.project.store.IGNORE_INDEX); never painted

# Class colours: a list (mask value i -> colors[i]) or a mapping {mask value: colour}.
ClassColors = Sequence[str] | Mapping[int, str]


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b); an empty or malformed string gives the neutral grey."""
    c = qcolor(color)
    return c.red(), c.green(), c.blue()


def color_lut(
    colors: ClassColors, opacity: float = 0.5, hidden: Collection[int] = ()
) -> np.ndarray:
    """A 256x4 RGBA lookup table: class value -> its colour at `opacity`. Hidden classes, values
    without a colour and IGNORE_INDEX stay fully transparent."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    alpha = int(round(max(0.0, min(1.0, opacity)) * 255))
    items = colors.items() if isinstance(colors, Mapping) else enumerate(colors)
    for value, color in items:
        if not 0 <= value < IGNORE_INDEX or value in hidden:
            continue
        lut[value, :3] = hex_to_rgb(color)
        lut[value, 3] = alpha
    return lut


def mask_to_rgba(
    mask: np.ndarray, colors: ClassColors, opacity: float = 0.5, hidden: Collection[int] = ()
) -> np.ndarray:
    """HxW class-index mask -> HxWx4 uint8 RGBA overlay (C-contiguous)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"A mask must be 2-D (height x width), got shape {mask.shape}")
    return np.ascontiguousarray(color_lut(colors, opacity, hidden)[mask.astype(np.uint8)])


def blend(
    image: np.ndarray,
    mask: np.ndarray,
    colors: ClassColors,
    opacity: float = 0.5,
    hidden: Collection[int] = (),
) -> np.ndarray:
    """Paint the mask's colours over an HxWx3 uint8 image; returns a new HxWx3 uint8 image.

    The mask is resized (nearest neighbour) to the image when their sizes differ.
    """
    image = np.asarray(image, dtype=np.uint8)
    mask = np.asarray(mask)
    if mask.shape != image.shape[:2]:
        mask = resize_nearest(mask, image.shape[0], image.shape[1])
    rgba = mask_to_rgba(mask, colors, opacity, hidden).astype(np.float32)
    a = rgba[..., 3:4] / 255.0
    out = image.astype(np.float32) * (1.0 - a) + rgba[..., :3] * a
    return np.ascontiguousarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))


def resize_nearest(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour resize of a label mask (never mixes class indices)."""
    h, w = mask.shape[:2]
    rows = np.minimum((np.arange(height) * h) // max(height, 1), h - 1)
    cols = np.minimum((np.arange(width) * w) // max(width, 1), w - 1)
    return mask[rows[:, None], cols[None, :]]


def to_qimage(array: np.ndarray) -> QImage:
    """HxWx3 (RGB) or HxWx4 (RGBA) uint8 array -> an independent QImage (owns its pixels)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    h, w = array.shape[:2]
    if array.ndim == 3 and array.shape[2] == 4:
        fmt = QImage.Format.Format_RGBA8888
    elif array.ndim == 3 and array.shape[2] == 3:
        fmt = QImage.Format.Format_RGB888
    elif array.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    else:
        raise ValueError(f"Cannot show an array of shape {array.shape} as an image")
    # QImage does not own numpy memory: copy() so the array may be freed
    return QImage(array.data, w, h, array.strides[0], fmt).copy()


def to_pixmap(array: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(array))


class ScaledImage(QLabel):
    """Shows an image array scaled to fit (aspect kept); keeps the array for inspection."""

    def __init__(self, placeholder: str = "", parent: QWidget | None = None):
        super().__init__(placeholder, parent)
        self.array: np.ndarray | None = None
        self._pix: QPixmap | None = None
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setStyleSheet("QLabel{background:#dfe3e8;color:#555;border-radius:4px;}")

    def set_array(self, array: np.ndarray | None) -> None:
        self.array = array
        self._pix = to_pixmap(array) if array is not None else None
        self._rescale()

    def _rescale(self) -> None:
        if self._pix is None:
            self.setPixmap(QPixmap())
            return
        self.setPixmap(
            self._pix.scaled(
                self.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.FastTransformation,  # crisp mask edges
            )
        )

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._rescale()


class ClassLegend(QWidget):
    """One checkbox per class with its colour; unticking hides that class in the overlay."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._lay = QVBoxLayout(self)
        self._lay.setContentsMargins(0, 0, 0, 0)
        self.boxes: list[QCheckBox] = []

    def set_classes(
        self, names: Sequence[str], colors: Sequence[str], hidden: Collection[int] = ()
    ) -> None:
        for box in self.boxes:
            box.deleteLater()
        self.boxes = []
        for i, (name, color) in enumerate(zip(names, colors, strict=False)):
            box = QCheckBox(name)
            pix = QPixmap(14, 14)
            pix.fill(QColor(color))
            box.setIcon(QIcon(pix))
            box.setChecked(i not in hidden)
            box.setToolTip(f"Show or hide “{name}” in the overlay")
            box.toggled.connect(self.changed)
            self._lay.addWidget(box)
            self.boxes.append(box)

    def hidden(self) -> set[int]:
        return {i for i, b in enumerate(self.boxes) if not b.isChecked()}

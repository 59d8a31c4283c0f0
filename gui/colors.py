"""Class colours for the GUI: QColor from the project's '#rrggbb' strings, a readable text colour
on a coloured chip, and the lookup table that paints a class-index mask as an RGBA overlay."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from PySide6.QtGui import QColor, QImage

IGNORE_INDEX = 255  # unlabeled mask pixels (engine.project.IGNORE_INDEX); never painted
SPLIT_COLORS = {"train": "#5b6b7f", "valid": "#b7791f", "test": "#7b4fb8"}
NEUTRAL = "#9aa3ad"


def qcolor(hex_color: str | None, fallback: str = NEUTRAL) -> QColor:
    """QColor for '#rrggbb'; an empty or malformed string gives the neutral grey."""
    c = QColor(hex_color or "")
    return c if c.isValid() else QColor(fallback)


def text_color_for(bg: QColor) -> QColor:
    """Black or white, whichever reads better on `bg` (relative luminance)."""
    lum = 0.2126 * bg.redF() + 0.7152 * bg.greenF() + 0.0587 * bg.blueF()
    return QColor("#111111") if lum > 0.55 else QColor("#ffffff")


def hex_to_rgb(hex_color: str) -> tuple[int, int, int]:
    c = qcolor(hex_color)
    return c.red(), c.green(), c.blue()


def overlay_lut(colors: Iterable[tuple[int, str]], alpha: int = 255) -> np.ndarray:
    """A (256, 4) uint8 RGBA table: mask value -> class colour. Values without a class and
    IGNORE_INDEX stay fully transparent, so only labelled pixels are tinted."""
    lut = np.zeros((256, 4), dtype=np.uint8)
    for value, hex_color in colors:
        if 0 <= value < 256 and value != IGNORE_INDEX:
            lut[value, :3] = hex_to_rgb(hex_color)
            lut[value, 3] = alpha
    return lut


def mask_to_qimage(mask: np.ndarray, lut: np.ndarray) -> QImage:
    """Colour an HxW uint8 mask through `lut` into a QImage that owns its pixels.

    The RGBA array is made C-contiguous and the QImage is copied, so the array can be
    freed as soon as this returns (QImage would otherwise point into numpy's buffer).
    """
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D, got shape {mask.shape}")
    rgba = np.ascontiguousarray(lut[mask.astype(np.uint8, copy=False)])
    h, w = mask.shape
    img = QImage(rgba.data, w, h, rgba.strides[0], QImage.Format.Format_RGBA8888)
    return img.copy()


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """An HxWx3 uint8 array as an owning QImage (RGB888)."""
    arr = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = arr.shape[:2]
    return QImage(arr.data, w, h, arr.strides[0], QImage.Format.Format_RGB888).copy()

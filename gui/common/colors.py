"""Class colours for the GUI: QColor from the project's '#rrggbb' strings and a readable text
colour on a coloured chip. Mask overlays are drawn by gui.common.overlay."""

from __future__ import annotations

from PySide6.QtGui import QColor

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

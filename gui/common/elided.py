"""Which texts a layout cuts: labels and buttons narrower (or, when they wrap, lower) than
their text needs. Used by the layout screenshot test at 1280×800 and 1024×768, and by
gui/screenshots_layout.py to name what is cut."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QLabel,
    QListView,
    QRadioButton,
    QWidget,
)

SLACK = 1  # pixels of rounding


def _name(w: QWidget) -> str:
    text = w.text() if hasattr(w, "text") else ""
    return f"{type(w).__name__} {w.objectName() or ''}“{text[:40]}” {w.width()}×{w.height()}"


def cut_widgets(root: QWidget) -> list[str]:
    """Descriptions of the visible labels and buttons under `root` whose text does not fit."""
    out = []
    for w in root.findChildren(QWidget):
        if not w.isVisibleTo(root) or not w.isVisible() or w.width() <= 0:
            continue
        if isinstance(w, QLabel):
            if not w.text() or w.pixmap() is not None and not w.pixmap().isNull():
                continue
            if w.wordWrap():
                if w.heightForWidth(w.width()) > w.height() + SLACK:
                    out.append(_name(w))
            elif w.sizeHint().width() > w.width() + SLACK:
                out.append(_name(w))
        elif isinstance(w, QAbstractButton) and w.text():
            text = w.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            need = w.fontMetrics().horizontalAdvance(text) + 6  # the text and a little margin
            if not w.icon().isNull():
                need += w.iconSize().width() + 4
            if isinstance(w, QCheckBox | QRadioButton):
                need += 20  # the box
            if need > w.width() + SLACK:
                out.append(_name(w))
        elif isinstance(w, QComboBox) and w.currentText():
            need = w.fontMetrics().horizontalAdvance(w.currentText()) + 28  # text + arrow
            if need > w.width() + SLACK:
                out.append(f"QComboBox “{w.currentText()}” {w.width()}×{w.height()}")
        elif isinstance(w, QListView) and w.flow() == QListView.Flow.TopToBottom:
            if w.horizontalScrollBar().isVisible():  # a list of names scrolled sideways
                out.append(f"{type(w).__name__} scrolled sideways {w.width()}×{w.height()}")
    return out

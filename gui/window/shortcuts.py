"""Window-wide shortcuts that work wherever the focus is. A focused text box (the Data page's
filter, a spin box) claims Ctrl+Z / Ctrl+Shift+Z for its own typing, so Edit ▸ Undo, which
shows Ctrl+Z, did nothing while it had the focus; here the window's undo and redo win, except
in a cell being edited in place (renaming a class) and in dialogs."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QAbstractSpinBox, QApplication, QLineEdit

TAKEN = (QKeySequence.StandardKey.Undo, QKeySequence.StandardKey.Redo)


class WindowShortcuts(QObject):
    """An application event filter for `window`: text boxes in it let Undo / Redo through."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        QApplication.instance().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() != QEvent.Type.ShortcutOverride:
            return False
        if not isinstance(obj, QLineEdit | QAbstractSpinBox) or obj.window() is not self.window:
            return False
        if not any(event.matches(k) for k in TAKEN) or _in_item_editor(obj):
            return False
        return True  # not offered to the text box: the window's Edit ▸ Undo / Redo runs


def _in_item_editor(widget) -> bool:
    """A cell editor of a list or table (its parent is the view's viewport)."""
    parent = widget.parent()
    view = parent.parent() if parent is not None else None
    return isinstance(view, QAbstractItemView)

"""View ▸ Appearance: follow the desktop's light/dark choice (the default), or always light,
or always dark; kept in the settings and applied at once. While following the system, a change
of the desktop's scheme is followed too. `AppearanceMenu` takes the menu to add its submenu to
and a parent for its actions."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from gui import theme


class AppearanceMenu(QObject):
    def __init__(self, menu: QMenu, parent: QWidget | None = None):
        super().__init__(parent)
        sub = menu.addMenu("&Appearance")
        group = QActionGroup(self)
        self.actions: dict[str, QAction] = {}
        current = theme.saved_choice()
        for key, text in theme.CHOICES.items():
            act = QAction(text, parent, checkable=True)
            act.setChecked(key == current)
            act.triggered.connect(lambda _=False, k=key: self.choose(k))
            group.addAction(act)
            sub.addAction(act)
            self.actions[key] = act
        QApplication.instance().styleHints().colorSchemeChanged.connect(self._system_changed)

    def choose(self, key: str) -> str:
        """Use `key` (system / light / dark) from now on; returns the scheme applied."""
        theme.save_choice(key)
        self.actions[key].setChecked(True)
        return theme.apply(QApplication.instance(), key)

    @Slot()
    def _system_changed(self, *_args) -> None:
        if theme.saved_choice() == "system":
            theme.apply(QApplication.instance(), "system")

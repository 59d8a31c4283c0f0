"""A word-wrapped label that keeps the height its text needs at its current width: in a
splitter pane Qt's layouts do not ask for a wrapped label's height, so the last lines were cut
(the mask editor's hint at 1280×800)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


class WrapLabel(QLabel):
    def __init__(self, text: str = "", parent=None):
        super().__init__(text, parent)
        self.setWordWrap(True)

    def _fit(self) -> None:
        need = self.heightForWidth(self.width()) if self.text() else 0
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._fit()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        super().setText(text)
        self._fit()


def breakable(name: str) -> str:
    """A file name that may wrap after _ - . (a zero-width space there; it is not copied into
    what a person reads)."""
    for ch in "_-.":
        name = name.replace(ch, ch + "\u200b")
    return name

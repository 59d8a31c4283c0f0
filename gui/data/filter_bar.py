"""The Data page's filter bar (class / split / file name, and the "n of N images" count) and the
re-split dialog."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QWidget,
)

from engine.project.records import SPLITS
from gui.data.class_panel import UNLABELED


class ElidedLabel(QLabel):
    """A one-line label that shrinks with "…" at its end (the full text in its tooltip) rather
    than pushing the buttons beside it out of view."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(60)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        super().setText(text)
        self.setToolTip(text)

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        painter.setPen(self.palette().color(self.foregroundRole()))
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, self.width()
        )
        painter.drawText(
            self.rect(), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, shown
        )


class FilterBar(QWidget):
    """Class / split / file-name filters and the "n of N images" count."""

    changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(8)
        self.label = QComboBox()
        self.label.setMinimumWidth(140)
        self.split = QComboBox()
        self.split.addItem("All splits", None)
        for s in SPLITS:
            self.split.addItem(s.capitalize(), s)
        self.text = QLineEdit()
        self.text.setPlaceholderText("Filter by file name…")
        self.text.setClearButtonEnabled(True)
        self.text.setMaximumWidth(360)
        self.text.setMinimumWidth(150)  # stays usable when the viewer narrows the page
        self.count = ElidedLabel()  # gives way first; the status bar carries long messages
        self.count.setStyleSheet("color: #5f6b7a;")
        self._debounce = QTimer(self, singleShot=True, interval=200)
        self._debounce.timeout.connect(self.changed)
        self.text.textChanged.connect(self._debounce.start)
        self.label.currentIndexChanged.connect(self.changed)
        self.split.currentIndexChanged.connect(self.changed)
        for w in (self.label, self.split):
            lay.addWidget(w)
        lay.addWidget(self.text, 1)
        lay.addWidget(self.count, 1)  # the Data page shows it on the row below the filters

    def reset(self) -> None:
        """No filter: all images, all splits, no file name (without a `changed` signal)."""
        self._debounce.stop()
        for w in (self.label, self.split, self.text):
            w.blockSignals(True)
        self.label.setCurrentIndex(0)
        self.split.setCurrentIndex(0)
        self.text.clear()
        for w in (self.label, self.split, self.text):
            w.blockSignals(False)

    def set_classes(self, names: list[str], unlabeled_text: str = "Unlabeled") -> None:
        current = self.label.currentData()
        self.label.blockSignals(True)
        self.label.clear()
        self.label.addItem("All images", None)
        self.label.addItem(unlabeled_text, UNLABELED)
        for n in names:
            self.label.addItem(n, n)
        k = self.label.findData(current)
        self.label.setCurrentIndex(max(0, k))
        self.label.blockSignals(False)
        if k < 0 and current is not None:
            self.changed.emit()

    def query_args(self) -> dict:
        lab = self.label.currentData()
        return {
            "label": lab if lab not in (None, UNLABELED) else None,
            "unlabeled": lab == UNLABELED,
            "split": self.split.currentData(),
            "name_contains": self.text.text().strip() or None,
        }

    def active(self) -> bool:
        return any(v for v in self.query_args().values())


class ResplitDialog(QDialog):
    """Validation / test percentages and seed for an automatic, stratified re-split."""

    def __init__(self, parent, valid_pct: float, test_pct: float, seed: int):
        super().__init__(parent)
        self.setWindowTitle("Re-split automatically")
        form = QFormLayout(self)
        self.valid = QDoubleSpinBox(suffix=" %", decimals=0, maximum=90, value=valid_pct * 100)
        self.test = QDoubleSpinBox(suffix=" %", decimals=0, maximum=90, value=test_pct * 100)
        self.seed = QSpinBox(maximum=2**31 - 1, value=seed)
        note = QLabel(
            "Images you moved by hand, or whose split came from train/valid folders, "
            "stay where they are. The split is stratified by label and seeded, "
            "so the same seed gives the same split."
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow("Validation", self.valid)
        form.addRow("Test", self.test)
        form.addRow("Seed", self.seed)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> tuple[float, float, int]:
        return self.valid.value() / 100, self.test.value() / 100, self.seed.value()

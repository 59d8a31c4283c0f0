"""The Evaluate page's tables: the confusion matrix (cell shade = share of the true class's
images), the regression scatter plot, and the small helpers that format values and fill the
per-class tables."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from gui.common.help_texts import tip


def fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, list | tuple):
        return ", ".join(fmt(x) for x in v) or "—"
    if isinstance(v, float):
        return f"{v:.3f}" if 0 <= v <= 1 else f"{v:.3g}"
    return str(v)


def make_table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return t


def fill_table(table: QTableWidget, rows: list[list[str]]) -> None:
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            table.setItem(r, c, item)


class ConfusionMatrix(QTableWidget):
    """Rows: true class; columns: predicted. Cell shade = share of the row."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.setToolTip(tip("confusion"))

    def set_matrix(self, names: list[str], matrix: np.ndarray) -> None:
        k = len(names)
        self.setRowCount(k)
        self.setColumnCount(k)
        self.setHorizontalHeaderLabels([f"→ {n}" for n in names])
        self.setVerticalHeaderLabels(names)
        for r in range(k):
            total = max(1, int(matrix[r].sum()))
            for c in range(k):
                n = int(matrix[r, c])
                share = n / total
                item = QTableWidgetItem(str(n))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                base = (46, 125, 50) if r == c else (198, 40, 40)
                shade = QColor(*base, int(30 + 200 * share) if n else 0)
                item.setBackground(QBrush(shade))
                if share > 0.55:
                    item.setForeground(QBrush(QColor("white")))
                item.setToolTip(f"{n} image(s) of “{names[r]}” predicted as “{names[c]}”")
                self.setItem(r, c, item)


def scatter_plot():
    """The regression view's plot: (widget, points, the dashed perfect-prediction line)."""
    import pyqtgraph as pg  # loaded on first use: the page opens without it

    plot = pg.PlotWidget()
    plot.setBackground("w")
    plot.setLabel("bottom", "actual")
    plot.setLabel("left", "predicted")
    plot.showGrid(x=True, y=True, alpha=0.25)
    brush = pg.mkBrush(31, 119, 180, 160)
    points = pg.ScatterPlotItem(size=8, brush=brush, pen=None, hoverable=True)
    line = pg.PlotDataItem(pen=pg.mkPen("#999", style=Qt.PenStyle.DashLine))
    plot.addItem(line)
    plot.addItem(points)
    return plot, points, line


def fill_scatter(points, line, items) -> None:
    """Regression items as (actual, predicted) points, and the line where the two are equal."""
    actual = np.array([it.target[0] for it in items if it.target], dtype=float)
    pred = np.array([it.prediction[0] for it in items if it.target], dtype=float)
    points.setData(actual, pred, data=[it.name for it in items if it.target], tip=None)
    if len(actual):
        lo, hi = float(min(actual.min(), pred.min())), float(max(actual.max(), pred.max()))
        line.setData([lo, hi], [lo, hi])

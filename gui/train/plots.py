"""Live training plots (pyqtgraph), the fastai-like epoch table and the LR-finder plot.

pyqtgraph takes seconds to import, so it is imported inside the constructors: the pages build
these widgets on first use, never at start-up. Curves are created once and refreshed with
`setData` by a timer, one plot per tick (~6 ticks a second), however fast the events arrive.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.events import BatchEnd, EpochEnd, FitStart

REDRAW_MS = 160
SMOOTH_BETA = 0.98  # fastai's smoothing of the batch loss
METRIC_COLORS = ["#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def smooth(values: Sequence[float], beta: float = SMOOTH_BETA) -> np.ndarray:
    """Debiased exponential moving average (as fastai shows the training loss)."""
    out = np.empty(len(values), dtype=float)
    avg = 0.0
    for i, v in enumerate(values):
        avg = beta * avg + (1 - beta) * v
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def _plot(pg, title: str, left: str, bottom: str):
    w = pg.PlotWidget()
    w.setBackground("w")
    item = w.getPlotItem()
    item.setTitle(title, color="#333", size="10pt")
    item.setLabel("left", left)
    item.setLabel("bottom", bottom)
    item.showGrid(x=True, y=True, alpha=0.25)
    item.setDownsampling(mode="peak")
    item.setClipToView(True)
    for axis in ("left", "bottom"):
        item.getAxis(axis).enableAutoSIPrefix(False)  # no "(x0.001)" on a 0-1 metric
    w.setMinimumHeight(120)
    return w


def forget_range(plot) -> None:
    """Back to the axes of a fresh, empty plot, then follow the data again: pyqtgraph keeps
    the last range when the curves empty (the previous project's numbers would stay)."""
    plot.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
    plot.enableAutoRange()


class _Hover:
    """A crosshair and a value read-out that follow the mouse over a plot."""

    def __init__(self, pg, widget, curves: list[tuple[str, object]], fmt: str = "{:.4g}"):
        self.widget, self.curves, self.fmt = widget, curves, fmt
        self.line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("#999", width=1))
        self.text = pg.TextItem(color="#222", fill=pg.mkBrush(255, 255, 255, 220), anchor=(0, 1))
        for it in (self.line, self.text):
            it.setVisible(False)
            widget.addItem(it, ignoreBounds=True)
        widget.scene().sigMouseMoved.connect(self.moved)

    def moved(self, pos) -> None:
        vb = self.widget.getPlotItem().vb
        if not self.widget.sceneBoundingRect().contains(pos):
            self.line.setVisible(False)
            self.text.setVisible(False)
            return
        x = vb.mapSceneToView(pos).x()
        lines = []
        for name, curve in self.curves:
            xs, ys = curve.getOriginalDataset()
            if xs is None or len(xs) == 0:
                continue
            i = int(np.argmin(np.abs(np.asarray(xs) - x)))
            lines.append(f"{name}: {self.fmt.format(ys[i])}  (x={xs[i]:.3g})")
        if not lines:
            return
        self.line.setPos(x)
        self.text.setText("\n".join(lines))
        self.text.setPos(vb.mapSceneToView(pos))
        self.line.setVisible(True)
        self.text.setVisible(True)


class TrainPlots(QWidget):
    """Train loss per batch (raw + smoothed), valid loss and metrics per epoch, LR schedule."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        self.loss_plot = _plot(pg, "Loss (lower is better)", "loss", "epoch")
        self.metric_plot = _plot(pg, "Metric on the validation images", "metric", "epoch")
        self.lr_plot = _plot(pg, "Learning rate", "lr", "epoch")
        for plot in (self.loss_plot, self.metric_plot):
            plot.addLegend(offset=(-10, 10), brush=pg.mkBrush(255, 255, 255, 215))
        self.raw_curve = self.loss_plot.plot(
            pen=pg.mkPen(31, 119, 180, 70), name="train loss (each batch)"
        )
        self.smooth_curve = self.loss_plot.plot(
            pen=pg.mkPen("#1f77b4", width=2), name="train loss (smoothed)"
        )
        self.valid_curve = self.loss_plot.plot(
            pen=pg.mkPen("#ff7f0e", width=2),
            symbol="o",
            symbolSize=7,
            symbolBrush="#ff7f0e",
            name="validation loss",
        )
        self.lr_curve = self.lr_plot.plot(pen=pg.mkPen("#d62728", width=2))
        self.metric_curves: dict[str, object] = {}
        self._hovers = [
            _Hover(
                pg,
                self.loss_plot,
                [("train", self.smooth_curve), ("valid", self.valid_curve)],
            ),
            _Hover(pg, self.lr_plot, [("lr", self.lr_curve)], fmt="{:.2e}"),
        ]
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.metric_plot)
        lower.addWidget(self.lr_plot)
        lower.setSizes([600, 400])
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.loss_plot)
        split.addWidget(lower)
        split.setSizes([600, 400])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        self._timer = QTimer(self)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._step)
        self.reset()

    # ---------------------------------------------------------------- data in
    def reset(self, start: FitStart | None = None) -> None:
        self._steps_per_epoch = max(1, start.steps_per_epoch) if start else 1
        self._bx: list[float] = []
        self._loss: list[float] = []
        self._lr: list[float] = []
        self._smooth_avg = 0.0
        self._smoothed: list[float] = []
        self._ex: list[float] = []
        self._valid: list[float] = []
        self._metrics: dict[str, list[float]] = {}
        for curve in self.metric_curves.values():
            self.metric_plot.removeItem(curve)
        self.metric_curves = {}
        names = start.metric_names if start else ()
        for i, name in enumerate(names):
            self._add_metric_curve(name, i)
        self._dirty: set[str] = {"loss", "lr", "metric"}
        self.flush()
        for plot in (self.loss_plot, self.metric_plot, self.lr_plot):
            forget_range(plot)

    def _add_metric_curve(self, name: str, i: int):
        pg = self._pg
        color = METRIC_COLORS[i % len(METRIC_COLORS)]
        curve = self.metric_plot.plot(
            pen=pg.mkPen(color, width=2), symbol="o", symbolSize=7, symbolBrush=color, name=name
        )
        self.metric_curves[name] = curve
        self._metrics.setdefault(name, [])
        if len(self.metric_curves) == 1:
            self._hovers.append(_Hover(pg, self.metric_plot, [(name, curve)]))
        return curve

    def add_batch(self, e: BatchEnd) -> None:
        if not math.isfinite(e.loss):
            return
        self._bx.append((e.step + 1) / self._steps_per_epoch)
        self._loss.append(e.loss)
        self._lr.append(e.lr)
        n = len(self._loss)
        self._smooth_avg = SMOOTH_BETA * self._smooth_avg + (1 - SMOOTH_BETA) * e.loss
        self._smoothed.append(self._smooth_avg / (1 - SMOOTH_BETA**n))
        self._schedule("loss", "lr")

    def add_epoch(self, e: EpochEnd) -> None:
        self._ex.append(e.epoch + 1.0)
        self._valid.append(e.valid_loss)
        for name, value in e.metrics.items():
            if name not in self.metric_curves:
                self._add_metric_curve(name, len(self.metric_curves))
                self._metrics[name] = [math.nan] * (len(self._ex) - 1)
            self._metrics[name].append(value)
        self._schedule("loss", "metric")

    def show_history(self, epochs: Sequence[EpochEnd]) -> None:
        """A stored run: its per-epoch train and valid losses and metrics (the per-batch
        losses and learning rates are not stored, so the train curve has a point per epoch)."""
        names = tuple(dict.fromkeys(m for e in epochs for m in e.metrics))
        self.reset(None)
        for i, name in enumerate(names):
            self._add_metric_curve(name, i)
        for e in epochs:
            if math.isfinite(e.train_loss):
                self._bx.append(e.epoch + 1.0)
                self._loss.append(e.train_loss)
                self._smoothed.append(e.train_loss)
            self.add_epoch(e)
        self.flush()

    def _schedule(self, *plots: str) -> None:
        self._dirty.update(plots)
        if not self._timer.isActive():
            self._timer.start()

    # ---------------------------------------------------------------- drawing
    def _step(self) -> None:
        """Redraw one stale plot per timer tick: a repaint of all three at once would keep
        the GUI thread busy for 60-200 ms on a loaded CPU; one at a time stays short."""
        for name in ("loss", "metric", "lr"):
            if name in self._dirty:
                self._push(name)
                break
        if not self._dirty:
            self._timer.stop()

    def flush(self) -> None:
        """Push every collected point into the curves now (end of a run, tests)."""
        self._timer.stop()
        for name in list(self._dirty):
            self._push(name)

    def _push(self, name: str) -> None:
        self._dirty.discard(name)
        bx = np.asarray(self._bx, dtype=float)
        ex = np.asarray(self._ex, dtype=float)
        if name == "loss":
            self.raw_curve.setData(bx, np.asarray(self._loss, dtype=float))
            self.smooth_curve.setData(bx, np.asarray(self._smoothed, dtype=float))
            self.valid_curve.setData(ex, np.asarray(self._valid, dtype=float))
        elif name == "lr":  # a stored run has no learning rates: an empty curve
            self.lr_curve.setData(bx[: len(self._lr)], np.asarray(self._lr, dtype=float))
        else:
            for metric, curve in self.metric_curves.items():
                ys = np.asarray(self._metrics.get(metric, []), dtype=float)
                curve.setData(ex[: len(ys)], ys)

    @property
    def n_batches(self) -> int:
        return len(self._loss)

    @property
    def n_epochs(self) -> int:
        return len(self._ex)


class EpochTable(QTableWidget):
    """One row per epoch, like fastai's: epoch, train_loss, valid_loss, metrics..., time.

    Per-class columns (names with a "/", e.g. segmentation's iou/<class>) are hidden until
    `set_details(True)`: the summary stays readable with many classes."""

    details_available = Signal(bool)  # whether there are per-class columns to show

    def __init__(self, parent: QWidget | None = None):
        super().__init__(0, 0, parent)
        self._details = False
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QTableWidget.SelectionMode.NoSelection)
        self.verticalHeader().setVisible(False)
        self.setAlternatingRowColors(True)
        self.reset(())

    def reset(self, metric_names: Sequence[str]) -> None:
        self._metrics = list(metric_names)
        self._set_headers()
        self.setRowCount(0)

    def _set_headers(self) -> None:
        headers = ["epoch", "train_loss", "valid_loss", *self._metrics, "time"]
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self._apply_details()

    def detail_columns(self) -> list[int]:
        """Columns of per-class figures (hidden unless details are on)."""
        return [
            col
            for col in range(self.columnCount())
            if "/"
            in (self.horizontalHeaderItem(col).text() if self.horizontalHeaderItem(col) else "")
        ]

    def set_details(self, on: bool) -> None:
        self._details = bool(on)
        self._apply_details()

    def _apply_details(self) -> None:
        cols = self.detail_columns()
        for col in range(self.columnCount()):
            self.setColumnHidden(col, col in cols and not self._details)
        self.details_available.emit(bool(cols))

    def add_epoch(self, e: EpochEnd) -> None:
        new = [m for m in e.metrics if m not in self._metrics]
        if new:
            self._metrics += new
            self._set_headers()
        minutes, seconds = divmod(int(round(e.seconds)), 60)
        cells = [
            f"{e.epoch + 1}" + (" (frozen)" if e.frozen else "") + (" ★" if e.is_best else ""),
            f"{e.train_loss:.4f}",
            f"{e.valid_loss:.4f}",
            *[f"{e.metrics[m]:.4f}" if m in e.metrics else "" for m in self._metrics],
            f"{minutes:02d}:{seconds:02d}",
        ]
        row = self.rowCount()
        self.insertRow(row)
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            if e.is_best:
                f = QFont(item.font())
                f.setBold(True)
                item.setFont(f)
                item.setToolTip("Best epoch so far: this model is the one kept.")
            self.setItem(row, col, item)
        self.scrollToBottom()


class LRFinderPlot(QWidget):
    """Loss against learning rate (log x), the suggestion marked with a vertical line."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        import pyqtgraph as pg

        self.plot = _plot(pg, "Learning-rate finder", "loss", "learning rate (log scale)")
        self.plot.setLogMode(x=True, y=False)
        self.curve = self.plot.plot(pen=pg.mkPen("#1f77b4", width=2))
        self.marker = pg.InfiniteLine(
            angle=90, movable=False, pen=pg.mkPen("#d62728", width=2, style=Qt.PenStyle.DashLine)
        )
        self.marker.setVisible(False)
        self.plot.addItem(self.marker, ignoreBounds=True)
        self.suggestion: float | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.plot)

    def set_result(self, lrs: Sequence[float], losses: Sequence[float], suggestion: float) -> None:
        lrs = np.asarray(lrs, dtype=float)
        losses = np.asarray(losses, dtype=float)
        ok = np.isfinite(losses) & (lrs > 0)
        self.curve.setData(lrs[ok], losses[ok])
        if ok.any():
            # the loss usually explodes at the end: keep the y range on the useful part
            lo, hi = float(np.min(losses[ok])), float(np.percentile(losses[ok], 90))
            self.plot.setYRange(lo - 0.05 * abs(lo), max(hi, lo + 1e-6), padding=0.05)
        else:
            forget_range(self.plot)
        self.suggestion = float(suggestion)
        if suggestion and suggestion > 0:
            self.marker.setPos(math.log10(suggestion))
            self.marker.setVisible(True)
        else:
            self.marker.setVisible(False)

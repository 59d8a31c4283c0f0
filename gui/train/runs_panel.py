"""The Train page's runs, side by side: when each started, how it ended, its epochs and metric,
and which one's model Evaluate and Predict use; “Use this run's model” switches to another
(the CLI's `use-run`). Filled from gui.jobs.runs.RunsOverview."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

COLUMNS = ["Run", "Status", "Epochs", "Best metric", "In use"]
RUN_ROLE = Qt.ItemDataRole.UserRole + 1


class RunsPanel(QWidget):
    use_requested = Signal(str)  # run id

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.rows: tuple = ()
        self.title = QLabel("<b>Runs</b>")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runsTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._update_button)
        self.use_button = QPushButton("Use this run's model")
        self.use_button.setToolTip(
            "Evaluate and Predict use the selected run's best model from now on."
        )
        self.use_button.clicked.connect(self._use)
        self.use_button.setEnabled(False)
        self._can_change = True
        head = QHBoxLayout()
        head.addWidget(self.title)
        head.addStretch(1)
        head.addWidget(self.use_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(head)
        lay.addWidget(self.table)

    def show_runs(self, rows) -> None:
        """Fill the table (newest first); the run in use is in bold and ticked."""
        self.rows = tuple(rows)
        self.table.setRowCount(len(self.rows))
        for r, row in enumerate(self.rows):
            metric = (
                f"{row.metric} {row.best_metric:.4f}"
                if row.best_metric is not None and row.metric
                else "—"
            )
            cells = [
                row.started or row.run_id,
                row.status_text,
                f"{row.epochs_done} of {row.epochs}",
                metric,
                "✓ in use" if row.in_use else "",
            ]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(RUN_ROLE, row.run_id)
                item.setToolTip(f"run {row.run_id}")
                if row.in_use:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
        self.setVisible(bool(self.rows))
        self._update_button()

    def status_of(self, run_id: str) -> str:
        return next((r.status_text for r in self.rows if r.run_id == run_id), "")

    def selected_run(self):
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def set_can_change(self, ok: bool) -> None:
        self._can_change = ok
        self._update_button()

    def _update_button(self) -> None:
        row = self.selected_run()
        self.use_button.setEnabled(
            bool(self._can_change and row is not None and row.has_model and not row.in_use)
        )

    def _use(self) -> None:
        row = self.selected_run()
        if row is not None:
            self.use_requested.emit(row.run_id)

"""What an import shows while it runs and when it ends: a progress dialog with Cancel (the window
stays usable behind it), and one report (added, duplicates, skipped with reasons, unmatched)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from engine.events import Progress


class ImportProgressDialog(QDialog):
    """Non-blocking progress with Cancel; the window stays usable behind it."""

    def __init__(self, parent: QWidget, title: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setMinimumWidth(440)
        lay = QVBoxLayout(self)
        self.label = QLabel("Looking for images…")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton("Cancel")
        lay.addWidget(self.label)
        lay.addWidget(self.bar)
        lay.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignRight)

    def update_progress(self, p: Progress) -> None:
        if p.total > 0:
            self.bar.setRange(0, p.total)
            self.bar.setValue(min(p.done, p.total))
            self.label.setText(p.text or f"{p.done} of {p.total} files")
        else:
            self.bar.setRange(0, 0)
            self.label.setText(p.text or f"{p.done} files")


class ImportReportDialog(QDialog):
    """One summary of an import: what was added, what was a duplicate, what was skipped."""

    def __init__(self, parent: QWidget, report, cancelled: bool = False, added: int | None = None):
        super().__init__(parent)
        self.setWindowTitle("Import cancelled" if cancelled else "Import finished")
        self.setMinimumSize(640, 360)
        skipped = list(getattr(report, "skipped", []) or [])
        duplicates = list(getattr(report, "duplicates", []) or [])
        if added is None:
            a = getattr(report, "added", 0)
            added = a if isinstance(a, int) else len(a)
        self.added, self.skipped, self.duplicates = added, skipped, duplicates
        lines = [f"Added {added} image{'s' if added != 1 else ''}."]
        if added:
            lines.append("Edit ▸ Undo (Ctrl+Z) takes the whole import out again.")
        if cancelled:
            lines.insert(0, "The import was cancelled; what was added before stays.")
        if duplicates:
            n = len(duplicates)
            lines.append(f"{n} duplicate{'s' if n != 1 else ''} (same content) not added again.")
        if skipped:
            lines.append(f"{len(skipped)} file{'s' if len(skipped) != 1 else ''} skipped.")
        unmatched = list(getattr(report, "unmatched", []) or [])
        self.unmatched = unmatched
        if getattr(report, "pairs", 0):
            lines.insert(1, f"{report.pairs} with their masks.")
        if unmatched:
            lines.append(f"{len(unmatched)} file{'s' if len(unmatched) != 1 else ''} not matched.")
        detected = report.details() if report is not None else []
        lay = QVBoxLayout(self)
        self.summary = QLabel(" ".join(lines))
        self.summary.setObjectName("reportSummary")
        self.summary.setWordWrap(True)
        lay.addWidget(self.summary)
        self.detected = QLabel("\n".join(detected))
        self.detected.setObjectName("reportDetected")
        self.detected.setWordWrap(True)
        self.detected.setVisible(bool(detected))
        lay.addWidget(self.detected)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["File", "What happened"])
        self.table.setRootIsDecorated(False)
        self.table.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.header().setStretchLastSection(True)
        for path, reason in skipped:
            item = QTreeWidgetItem([Path(str(path)).name, f"Skipped: {reason}"])
            item.setToolTip(0, str(path))
            self.table.addTopLevelItem(item)
        for path, existing in duplicates:
            item = QTreeWidgetItem([Path(str(path)).name, f"Duplicate of {existing}"])
            item.setToolTip(0, str(path))
            self.table.addTopLevelItem(item)
        for path, why in unmatched:
            item = QTreeWidgetItem([Path(str(path)).name, f"Not matched: {why}"])
            item.setToolTip(0, str(path))
            self.table.addTopLevelItem(item)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(0, min(360, self.table.columnWidth(0) + 24))
        self.table.setVisible(bool(skipped or duplicates or unmatched))
        lay.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        buttons.accepted.connect(self.close)
        lay.addWidget(buttons)
        if not (skipped or duplicates or unmatched):
            self.setMinimumSize(360, 120)

    def rows(self) -> list[tuple[str, str]]:
        t = self.table
        return [
            (t.topLevelItem(i).text(0), t.topLevelItem(i).text(1))
            for i in range(t.topLevelItemCount())
        ]

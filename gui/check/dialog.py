"""Tools ▸ Check data…: runs the data health check on the bridge's worker thread (progress and
cancel), lists the findings most serious first, shows each finding's images (thumbnails with a
note per image) and offers its one-click fix. Split moves go through the undo history."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Slot
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.events import Progress
from gui.jobs.check import check_job, thumbnails_lookup
from gui.jobs.names import JobName

SEVERITY_COLORS = {"high": "#c62828", "medium": "#ef6c00", "info": "#546e7a"}
MAX_SHOWN = 60  # thumbnails per finding (the title gives the full count)


class CheckDialog(QDialog):
    """The findings of one check of the open project; `start()` runs (or reruns) it."""

    def __init__(self, bridge, state, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Check data")
        self.resize(980, 640)
        self.bridge, self.state = bridge, state
        self.report = None
        self.status = QLabel("Checks duplicates, leakage between splits, class balance, …")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.bridge.cancel)
        self.rerun_button = QPushButton("Check again")
        self.rerun_button.clicked.connect(self.start)
        self.training_labels = QCheckBox("Check training labels with the model")
        self.training_labels.setToolTip(
            "Also run the trained model over the training images to find labels it confidently "
            "disputes (one prediction per image: slower on large projects)."
        )
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.training_labels)
        top.addWidget(self.progress)
        top.addWidget(self.cancel_button)
        top.addWidget(self.rerun_button)

        self.findings = QListWidget()
        self.findings.setWordWrap(True)
        self.findings.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.findings.currentRowChanged.connect(self._show_finding)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; font-size: 14px;")
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.fix_button = QPushButton()
        self.fix_button.clicked.connect(self.apply_current_fix)
        self.images = QListWidget()
        self.images.setViewMode(QListView.ViewMode.IconMode)
        self.images.setIconSize(QSize(112, 112))
        self.images.setResizeMode(QListView.ResizeMode.Adjust)
        self.images.setWordWrap(True)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.addWidget(self.title)
        rl.addWidget(self.detail)
        rl.addWidget(self.fix_button, 0, Qt.AlignmentFlag.AlignLeft)
        rl.addWidget(self.images, 1)
        split = QSplitter()
        split.addWidget(self.findings)
        split.addWidget(right)
        split.setSizes([330, 650])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)

        job = bridge.job(JobName.CHECK)
        job.events.connect(self._on_events)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self._running(False)
        self._show_finding(-1)

    def _running(self, on: bool) -> None:
        self.progress.setVisible(on)
        self.cancel_button.setVisible(on)
        self.rerun_button.setEnabled(not on)

    @Slot()
    def start(self) -> bool:
        project = self.state.project
        if project is None:
            self.status.setText("Open a project first.")
            return False
        if not self.bridge.submit(
            JobName.CHECK, check_job, project, self.training_labels.isChecked()
        ):
            self.status.setText("Busy: wait for the running job to finish, then check again.")
            return False
        self.status.setText("Checking…")
        self.progress.setRange(0, 0)
        self._running(True)
        return True

    @Slot(list)
    def _on_events(self, events: list) -> None:
        for ev in events:
            if isinstance(ev, Progress):
                self.progress.setRange(0, max(ev.total, 0))
                self.progress.setValue(ev.done)
                self.status.setText(ev.text)

    @Slot(object)
    def _on_finished(self, report) -> None:
        self._running(False)
        self.report = report
        n_high = sum(f.severity == "high" for f in report.findings)
        self.status.setText(
            f"{report.n_images} images checked in {report.seconds:.1f} s: "
            f"{len(report.findings)} finding(s), {n_high} serious."
            if report.findings
            else f"{report.n_images} images checked: no problems found."
        )
        self.findings.clear()
        for f in report.findings:
            item = QListWidgetItem(f"{f.title}")
            item.setForeground(QColor(SEVERITY_COLORS.get(f.severity, "#000")))
            item.setToolTip(f.detail)
            self.findings.addItem(item)
        self.findings.setCurrentRow(0 if report.findings else -1)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._running(False)
        self.status.setText(f"The check failed: {message}")

    @Slot()
    def _on_cancelled(self) -> None:
        self._running(False)
        self.status.setText("Check cancelled. Hashes made so far are kept for the next check.")

    def _current(self):
        row = self.findings.currentRow()
        if self.report is None or not 0 <= row < len(self.report.findings):
            return None
        return self.report.findings[row]

    @Slot(int)
    def _show_finding(self, _row: int) -> None:
        f = self._current()
        self.images.clear()
        self.title.setText(f.title if f else "")
        self.detail.setText(f.detail if f else "")
        self.fix_button.setVisible(bool(f and f.fix))
        if f and f.fix:
            self.fix_button.setText(f.fix.label)
        if f is None or self.state.project is None:
            return
        ids = [i for g in f.groups for i in g] if f.groups else list(f.image_ids)
        ids = ids[:MAX_SHOWN]
        for iid in ids:
            item = QListWidgetItem(f.notes.get(iid, ""))
            item.setData(Qt.ItemDataRole.UserRole, iid)
            item.setSizeHint(QSize(128, 150))
            self.images.addItem(item)
        if ids:
            self.bridge.call(thumbnails_lookup, self.state.project, ids, done=self._thumbs)

    def _thumbs(self, result) -> None:
        if isinstance(result, Exception):
            return
        by_id = {iid: (path, name) for iid, path, name in result}
        for k in range(self.images.count()):
            item = self.images.item(k)
            path, name = by_id.get(item.data(Qt.ItemDataRole.UserRole), ("", ""))
            if path:
                item.setIcon(QIcon(QPixmap(path)))
            note = item.text()
            item.setText(f"{name}\n{note}" if note else name)
            item.setToolTip(item.text())

    def _reload_train_settings(self) -> None:
        """Training settings panels re-read the saved settings, so they show (and keep) the
        setting just written instead of saving their older copy over it."""
        from gui.train.settings import SettingsPanel

        window = self.parent()
        for panel in window.findChildren(SettingsPanel) if window is not None else []:
            if panel.project is not None:
                panel.set_project(panel.project)

    @Slot()
    def apply_current_fix(self) -> None:
        """Carry out the shown finding's fix, then check again."""
        from engine.check.report import apply_fix

        f = self._current()
        if f is None or f.fix is None or self.state.project is None:
            return
        if why := self.state.refuse_change():
            self.status.setText(why)
            return
        if f.fix.action == "set_split" and self.state.history is not None:
            by_split: dict[str, list[int]] = {}
            for iid, split in f.fix.params["moves"].items():
                by_split.setdefault(split, []).append(int(iid))
            for split, ids in sorted(by_split.items()):
                self.state.edit(lambda h, ids=ids, split=split: h.set_split(ids, split))
            text = f"Moved {len(f.fix.params['moves'])} image(s) (Edit ▸ Undo takes it back)."
        else:
            text = apply_fix(self.state.project, f.fix)
            self._reload_train_settings()
        self.start()
        self.status.setText(text + " Checking again…")

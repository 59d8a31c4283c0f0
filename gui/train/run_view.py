"""The right side of the Train page: what a run looks like while it goes and after it ended —
the overfitting notice, progress bar with Pause / Stop, status line, loss and metric plots, the
epoch table and the learning-rate finder's result. A reopened project shows its stored last
run here. The view only displays; starting and stopping runs is the page's job.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.events import (
    BatchEnd,
    DownloadProgress,
    EpochEnd,
    FitEnd,
    FitStart,
    LRFinderResult,
    Progress,
    Skipped,
)

OVERFIT_TEXT = (
    "<b>The model is starting to memorise the training images — this is overfitting.</b> "
    "The validation loss has risen for {n} epochs in a row while the training loss kept falling. "
    "What helps: more images, more data augmentation, or fewer epochs. "
    "Nothing is lost: the best model so far (epoch {best}) is the one kept."
)
NOT_STARTED = "Not started"


def overfitting(history: list[tuple[float, float]], run: int = 2) -> bool:
    """True when valid loss rose `run` epochs in a row while train loss kept falling."""
    if len(history) < run + 1:
        return False
    last = history[-(run + 1) :]
    return all(b[1] > a[1] and b[0] < a[0] for a, b in zip(last, last[1:], strict=False))


def format_eta(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class RunView(QWidget):
    """Progress, plots and epoch table of one run (live, or the project's stored last run)."""

    pause_clicked = Signal()
    stop_clicked = Signal()
    lr_chosen = Signal(float)  # "Use it" under the learning-rate finder's curve

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plots = None
        self.lr_plot = None
        self.losses: list[tuple[float, float]] = []  # (train, valid) per epoch
        self.epochs: list[EpochEnd] = []  # shown in the table (plots replay them when built)
        self.best_epoch = 0
        self.skipped: list[Skipped] = []
        self.fit: FitStart | None = None  # the live run's start (None: none, or a stored run)

        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.pause_clicked)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after this batch; the best model so far is kept.")
        self.stop_button.clicked.connect(self.stop_clicked)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat(NOT_STARTED)
        self.status = QLabel("Open a project, then press Train.")
        self.status.setWordWrap(True)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "QLabel{background:#fff4ce;border:1px solid #e0b400;border-radius:4px;padding:6px;}"
        )
        self.notice.setVisible(False)
        from gui.common.verdict_view import VerdictView

        self.verdict = VerdictView()  # how good the model is, after a run (gui.jobs.runs)

        from gui.train.plots import EpochTable

        self.table = EpochTable()
        self.details_box = QCheckBox("Show per-class columns")
        self.details_box.setToolTip("Per-class figures (e.g. IoU of each class) for each epoch.")
        self.details_box.setVisible(False)
        self.details_box.toggled.connect(self.table.set_details)
        self.table.details_available.connect(self.details_box.setVisible)
        table_host = QWidget()
        table_lay = QVBoxLayout(table_host)
        table_lay.setContentsMargins(0, 0, 0, 0)
        table_lay.addWidget(self.details_box)
        table_lay.addWidget(self.table)
        self.lr_box = QWidget()
        self.lr_box.setVisible(False)
        self.lr_label = QLabel()
        self.use_lr_button = QPushButton("Use it")
        self.use_lr_button.clicked.connect(self._use_lr)
        lr_lay = QVBoxLayout(self.lr_box)
        lr_lay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.lr_label, 1)
        row.addWidget(self.use_lr_button)
        lr_lay.addLayout(row)

        self.plot_holder = QVBoxLayout()
        plot_host = QWidget()
        plot_host.setLayout(self.plot_holder)
        self.plot_holder.setContentsMargins(0, 0, 0, 0)
        self.bottom_split = QSplitter(Qt.Orientation.Horizontal)
        self.bottom_split.addWidget(table_host)
        self.bottom_split.addWidget(self.lr_box)
        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(plot_host)
        self.right_split.addWidget(self.bottom_split)
        self.right_split.setSizes([620, 220])

        controls = QHBoxLayout()
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.notice)
        lay.addLayout(controls)
        lay.addWidget(self.status)
        lay.addWidget(self.verdict)
        lay.addWidget(self.right_split, 1)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self.ensure_plots()

    def ensure_plots(self):
        """Build the pyqtgraph plots on first use (the import takes seconds)."""
        if self.plots is None:
            from gui.train.plots import LRFinderPlot, TrainPlots

            self.plots = TrainPlots()
            self.plot_holder.addWidget(self.plots)
            self.lr_plot = LRFinderPlot()
            self.lr_plot.setMinimumHeight(160)
            self.lr_box.layout().insertWidget(0, self.lr_plot, 1)
            if self.epochs and self.fit is None:  # a stored run shown before the plots existed
                self.plots.show_history(self.epochs)
        return self.plots

    # ------------------------------------------------------------------ whole-view states
    def reset(self, status: str) -> None:
        """Nothing shown: no curves, no epochs, no notice, progress "Not started"."""
        self._clear()
        self.lr_box.setVisible(False)
        if self.lr_plot is not None:
            self.lr_plot.set_result([], [], 0.0)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(NOT_STARTED)
        self.status.setText(status)

    def _clear(self) -> None:
        self.losses, self.epochs, self.skipped, self.best_epoch = [], [], [], 0
        self.fit = None
        self.notice.setVisible(False)
        self.verdict.show_verdict(None)
        self.table.reset(())
        if self.plots is not None:
            self.plots.reset(None)

    def show_history(self, epochs: Sequence[EpochEnd], ended: str = "Finished") -> None:
        """Show a stored run's epochs in the table and the plots (no per-batch curve);
        `ended` says how the run ended (Finished, Stopped, Interrupted…)."""
        self._clear()
        for e in epochs:
            self.table.add_epoch(e)
            self._note_epoch(e)
        self.epochs = list(epochs)
        self._show_notice(self.epochs[-1] if self.epochs else None)
        if self.plots is not None:
            self.plots.show_history(self.epochs)
        best = next((e for e in reversed(epochs) if e.is_best), None)
        metric = ", ".join(f"{k} {v:.4f}" for k, v in best.metrics.items()) if best else ""
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat(ended)
        self.status.setText(
            f"Last training ({ended.split(' (')[0].lower()}): {len(epochs)} epoch(s)"
            + (f", best epoch {best.epoch + 1} ({metric})" if best else "")
            + ". Press Train to train again."
        )

    def begin(self, progress: str, status: str, new_run: bool = True) -> None:
        """A job is starting: busy progress bar; a new run also clears the last one."""
        if new_run:
            self._clear()
        self.ensure_plots()
        self.progress.setRange(0, 0)
        self.progress.setFormat(progress)
        self.status.setText(status)

    def set_controls(self, can_pause: bool, paused: bool, can_stop: bool) -> None:
        self.pause_button.setEnabled(can_pause)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.stop_button.setEnabled(can_stop)

    # ------------------------------------------------------------------ live events
    def on_events(self, events: list) -> None:
        if self.plots is None:
            return
        last_batch = None
        for e in events:
            if isinstance(e, BatchEnd):
                self.plots.add_batch(e)
                last_batch = e
            elif isinstance(e, EpochEnd):
                self._on_epoch(e)
            elif isinstance(e, FitStart):
                self._on_fit_start(e)
            elif isinstance(e, DownloadProgress):
                total = max(e.total_bytes, 1)
                self.progress.setRange(0, 1000)
                self.progress.setValue(int(1000 * e.done_bytes / total))
                self.progress.setFormat(
                    f"Downloading {e.name}: {e.done_bytes / 1e6:.1f} / {e.total_bytes / 1e6:.1f} MB"
                )
            elif isinstance(e, Skipped):
                self.skipped.append(e)
                self.status.setText(
                    f"{len(self.skipped)} image(s) skipped, training goes on. Last: {e.path}: "
                    f"{e.reason}"
                )
            elif isinstance(e, Progress):
                if e.total > 0:  # e.g. the LR finder's sweep before the first epoch
                    self.progress.setRange(0, e.total)
                    self.progress.setValue(min(e.done, e.total))
                    self.progress.setFormat(f"{e.text or 'Working'}: {e.done}/{e.total}")
                    self.status.setText(
                        f"{e.text or 'Working'}: step {e.done} of {e.total} (about 20 s at most)…"
                    )
                elif e.text:
                    self.status.setText(e.text)
        if last_batch is not None:
            self._show_batch(last_batch)

    def _on_fit_start(self, e: FitStart) -> None:
        self.fit = e
        self.plots.reset(e)
        self.table.reset(e.metric_names)
        self.status.setText(
            f"Training {e.arch} on {e.device}: {e.n_train} training and {e.n_valid} "
            f"validation images, {e.epochs} epoch(s) ({e.freeze_epochs} frozen)."
        )

    def _show_batch(self, e: BatchEnd) -> None:
        fit = self.fit
        self.progress.setRange(0, max(1, e.total_steps))
        self.progress.setValue(e.step + 1)
        epochs = fit.epochs if fit else "?"
        steps = fit.steps_per_epoch if fit else "?"
        phase = " (frozen)" if e.frozen else ""
        self.progress.setFormat(
            f"Epoch {e.epoch + 1}/{epochs}{phase} · batch {e.batch + 1}/{steps} · "
            f"{e.images_per_s:.0f} images/s · ETA {format_eta(e.eta_s)}"
        )

    def _on_epoch(self, e: EpochEnd) -> None:
        self.plots.add_epoch(e)
        self.table.add_epoch(e)
        self.epochs.append(e)
        self._note_epoch(e)
        self._show_notice(e)

    def _show_notice(self, e: EpochEnd | None) -> None:
        """The latest epoch's warning (one class everywhere) first, else the overfitting one."""
        if e is not None and e.warning:
            self.notice.setText(f"<b>Epoch {e.epoch + 1}:</b> {e.warning}")
        elif overfitting(self.losses):
            self.notice.setText(OVERFIT_TEXT.format(n=2, best=self.best_epoch or "?"))
        else:
            self.notice.setVisible(False)
            return
        self.notice.setVisible(True)

    def _note_epoch(self, e: EpochEnd) -> None:
        self.losses.append((e.train_loss, e.valid_loss))
        if e.is_best:
            self.best_epoch = e.epoch + 1

    # ------------------------------------------------------------------ endings
    def fit_end(self, r: FitEnd) -> None:
        self._finish_progress()
        if r.cancelled:
            self.progress.setFormat("Stopped")
        if self.plots is not None:
            self.plots.flush()
        head = "Stopped" if r.cancelled else "Done"
        name = _main_metric(self.fit)
        metric = f", best {name} {r.best_metric:.4f}" if r.best_metric is not None else ""
        kept = _kept_text(r)
        skipped = f" {len(self.skipped)} image(s) were skipped." if self.skipped else ""
        self.status.setText(
            f"{head}: {r.epochs_done} epoch(s), best epoch {r.best_epoch + 1}{metric}.{kept}"
            f"{skipped}"
        )

    def lr_result(self, r: LRFinderResult) -> None:
        self._finish_progress()
        self.ensure_plots()
        self.lr_plot.set_result(r.lrs, r.losses, r.suggestion)
        self.lr_label.setText(f"Suggested learning rate: <b>{r.suggestion:.2e}</b>")
        self.lr_box.setVisible(True)
        if min(self.bottom_split.sizes()) < 50:
            half = max(200, self.bottom_split.width() // 2)
            self.bottom_split.setSizes([half, half])
        if self.right_split.sizes()[1] < 200:
            self.right_split.setSizes([500, 260])
        self.status.setText("Learning-rate finder done. Press “Use it” to take its suggestion.")

    def _use_lr(self) -> None:
        if self.lr_plot is not None and self.lr_plot.suggestion:
            self.lr_chosen.emit(self.lr_plot.suggestion)

    def _finish_progress(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("Finished")

    def failed(self, message: str) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("Failed")
        self.status.setText(f"<span style='color:#b00020'>Training stopped: {message}</span>")

    def stopped(self) -> None:
        self.progress.setFormat("Stopped")
        self.progress.setRange(0, 1)
        self.status.setText("Stopped. The best model so far is kept in the project.")


def _main_metric(fit: FitStart | None) -> str:
    """The name of the metric that picks the best epoch ("metric" when unknown)."""
    from engine.training.verdict import MAIN

    return MAIN[fit.task][0] if fit is not None and fit.task in MAIN else "metric"


def _kept_text(r: FitEnd) -> str:
    """What became of the run's model: the model in use only when a finished run did better."""
    if not r.checkpoint:
        return " No model was kept."
    run = f"run {r.run_id}" if r.run_id else "this run"
    if r.promoted:
        return f" Its best model ({run}) is now the model in use for Evaluate and Predict."
    if r.cancelled:
        return f" The model in use is unchanged; {run} is kept in models/runs/ and can be resumed."
    return f" The model in use did as well or better, so it stays; {run} is kept in models/runs/."

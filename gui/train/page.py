"""The Train page: choose a network and settings, press Train, watch it learn.

Engine work runs only through the shared EngineBridge (jobs "train" and "lr_find"); torch and
the model list are loaded on a helper thread the first time a project is shown, so the window
never waits for them. The pre-run check of the pretrained weights happens before anything is
submitted: offline without cached weights the page says so and offers the ways out.
"""

from __future__ import annotations

import gc
import os
import socket
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.config import TrainConfig
from engine.events import (
    BatchEnd,
    Callback,
    DownloadProgress,
    EpochEnd,
    FitEnd,
    FitStart,
    LRFinderResult,
    Progress,
    Skipped,
)
from gui.train.settings import SettingsPanel

WORKER_NICE = int(os.environ.get("TOPDOWN_WORKER_NICE", "5"))
OVERFIT_TEXT = (
    "<b>The model is starting to memorise the training images — this is overfitting.</b> "
    "The validation loss has risen for {n} epochs in a row while the training loss kept falling. "
    "What helps: more images, more data augmentation, or fewer epochs. "
    "Nothing is lost: the best model so far (epoch {best}) is the one kept."
)


class EmitCallback(Callback):
    """Turns the engine's callbacks into bridge events (runs on the worker thread)."""

    def __init__(self, job):
        self.job = job

    def on_fit_start(self, event: FitStart) -> None:
        # torch, the model and the Qt/pyqtgraph objects are all loaded by now: move them out of
        # the cyclic GC's reach, or each full collection walks ~400k objects while holding the
        # GIL (100-200 ms in which the window cannot repaint)
        gc.freeze()
        self.job.emit(event)

    def on_batch_end(self, event: BatchEnd) -> None:
        self.job.emit(event)

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.job.emit(event)

    def on_fit_end(self, event: FitEnd) -> None:
        self.job.emit(event)

    def on_download(self, event: DownloadProgress) -> None:
        self.job.emit(event)

    def on_skipped(self, event: Skipped) -> None:
        self.job.emit(event)

    def on_progress(self, event: Progress) -> None:
        self.job.emit(event)


def _lower_priority() -> None:
    """Let the GUI thread win the CPU over the training thread (Linux: per-thread nice)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):  # not on this platform / not allowed: no harm
        pass


def train_job(job, project, config: TrainConfig) -> FitEnd:
    from engine.training.train import train

    _lower_priority()
    return train(project, config, callbacks=[EmitCallback(job)], control=job.control)


def lr_find_job(job, project, config: TrainConfig) -> LRFinderResult:
    from engine.training.train import lr_find

    return lr_find(project, config, callbacks=[EmitCallback(job)], control=job.control)


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


class BackgroundCall(QObject):
    """Run a slow plain function on a Python thread; `done(result)` arrives on the GUI thread."""

    done = Signal(object)

    def start(self, fn: Callable[[], object]) -> None:
        def run():
            try:
                result = fn()
            except Exception as e:  # shown to the user, never fatal
                result = e
            try:
                self.done.emit(result)
            except RuntimeError:  # the page was closed meanwhile
                pass

        threading.Thread(target=run, daemon=True).start()


class TrainPage(QWidget):
    title = "Train"
    trained = Signal(object)  # FitEnd, after a run that kept a model

    def __init__(self, bridge, window=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self.window_ = window
        self.project = None
        self.plots = None
        self.lr_plot = None
        self.history: list[tuple[float, float]] = []
        self.best_epoch = 0
        self.skipped: list[Skipped] = []
        self._fit: FitStart | None = None

        self.settings = SettingsPanel(self)
        self.settings.train_clicked.connect(self.start_training)
        self.settings.find_clicked.connect(self.start_lr_find)
        self.settings.scratch_clicked.connect(self._train_from_scratch)
        self.settings.choose_weights_clicked.connect(self._choose_weights)
        self.settings.download_clicked.connect(self._download_and_train)

        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self._toggle_pause)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop after this batch; the best model so far is kept.")
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.setFormat("Not started")
        self.status = QLabel("Open a project, then press Train.")
        self.status.setWordWrap(True)
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "QLabel{background:#fff4ce;border:1px solid #e0b400;border-radius:4px;padding:6px;}"
        )
        self.notice.setVisible(False)

        from gui.train.plots import EpochTable

        self.table = EpochTable()
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
        self.bottom_split.addWidget(self.table)
        self.bottom_split.addWidget(self.lr_box)
        self.right_split = QSplitter(Qt.Orientation.Vertical)
        self.right_split.addWidget(plot_host)
        self.right_split.addWidget(self.bottom_split)
        self.right_split.setSizes([620, 220])

        controls = QHBoxLayout()
        controls.addWidget(self.progress, 1)
        controls.addWidget(self.pause_button)
        controls.addWidget(self.stop_button)
        right = QVBoxLayout()
        right.addWidget(self.notice)
        right.addLayout(controls)
        right.addWidget(self.status)
        right.addWidget(self.right_split, 1)
        lay = QHBoxLayout(self)
        lay.addWidget(self.settings)
        lay.addLayout(right, 1)

        self._info = BackgroundCall(self)
        self._info.done.connect(self._on_info)
        bridge.events.connect(self._on_events)
        bridge.finished.connect(self._on_finished)
        bridge.failed.connect(self._on_failed)
        bridge.cancelled.connect(self._on_cancelled)
        bridge.busy_changed.connect(self._update_buttons)
        self._update_buttons()

    # ------------------------------------------------------------------ project
    def set_project(self, project) -> None:
        self.project = project
        self.settings.set_project(project)
        if project is not None:
            task = project.task
            self.status.setText("Loading the list of networks…")
            self._info.start(lambda: _engine_info(task))
        self._update_buttons()

    @Slot(object)
    def _on_info(self, result) -> None:
        if isinstance(result, Exception):
            self.status.setText(f"Could not load the list of networks: {result}")
            return
        task, archs, device, online = result
        if self.project is None or self.project.task != task:
            return  # an answer for a project that is no longer shown
        self.settings.online = online
        self.settings.set_engine_info(archs, device)
        if not self.running:
            self.status.setText("Ready. Press Train to start.")

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
        return self.plots

    # ------------------------------------------------------------------ starting
    @property
    def running(self) -> bool:
        return self.bridge.job_name in ("train", "lr_find")

    def _prepared_config(self) -> TrainConfig | None:
        """The settings as a config, saved, with the weights checked; None = do not start."""
        if self.project is None or self.bridge.busy:
            return None
        cfg = self.settings.config()
        if cfg is None:
            return None
        cfg.leave_one_core = True  # the UI keeps a core for itself
        self.project.save_settings(cfg.to_dict())
        if not self.settings.check_weights(cfg):
            self.status.setText("Not started: the pretrained weights are not on this computer.")
            return None
        return cfg

    def start_training(self) -> bool:
        cfg = self._prepared_config()
        if cfg is None:
            return False
        self.ensure_plots()
        self.history, self.skipped, self.best_epoch = [], [], 0
        self.notice.setVisible(False)
        self.table.reset(())
        self.plots.reset(None)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Preparing the images and the network…")
        self.status.setText("Starting…")
        return self.bridge.submit("train", train_job, self.project, cfg)

    def start_lr_find(self) -> bool:
        cfg = self._prepared_config()
        if cfg is None:
            return False
        self.ensure_plots()
        self.progress.setRange(0, 0)
        self.progress.setFormat("Finding a learning rate…")
        self.status.setText("Trying learning rates from tiny to large on a few batches…")
        return self.bridge.submit("lr_find", lr_find_job, self.project, cfg)

    def _train_from_scratch(self) -> None:
        self.settings.set_pretrained(False)
        self.start_training()

    def _download_and_train(self) -> None:
        self.settings.allow_download()
        self.start_training()

    def _choose_weights(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a weights file", "", "PyTorch weights (*.pth *.pt);;All files (*)"
        )
        if path:
            self.settings.set_weights_file(path)
            self.start_training()

    def stop(self) -> None:
        if self.running:
            self.bridge.cancel()
            self.status.setText("Stopping after this batch…")

    def _toggle_pause(self) -> None:
        if not self.running:
            return
        if self.bridge.paused:
            self.bridge.resume()
            self.status.setText("Resumed.")
        else:
            self.bridge.pause()
            self.status.setText("Paused. Press Resume to go on.")
        self._update_buttons()

    @Slot(bool)
    def _update_buttons(self, *_args) -> None:
        mine = self.running
        self.settings.set_can_start(self.project is not None and not self.bridge.busy)
        self.pause_button.setEnabled(self.bridge.job_name == "train")
        self.pause_button.setText("Resume" if mine and self.bridge.paused else "Pause")
        self.stop_button.setEnabled(mine)

    # ------------------------------------------------------------------ events
    @Slot(list)
    def _on_events(self, events: list) -> None:
        if not self.running or self.plots is None:
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
                if e.total > 0:  # e.g. the LR finder's sweep (on its own, or for lr "auto")
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
        self._fit = e
        self.plots.reset(e)
        self.table.reset(e.metric_names)
        self.status.setText(
            f"Training {e.arch} on {e.device}: {e.n_train} training and {e.n_valid} "
            f"validation images, {e.epochs} epoch(s) ({e.freeze_epochs} frozen)."
        )

    def _show_batch(self, e: BatchEnd) -> None:
        fit = self._fit
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
        self.history.append((e.train_loss, e.valid_loss))
        if e.is_best:
            self.best_epoch = e.epoch + 1
        if overfitting(self.history):
            self.notice.setText(OVERFIT_TEXT.format(n=2, best=self.best_epoch or "?"))
            self.notice.setVisible(True)

    @Slot(str, object)
    def _on_finished(self, name: str, result) -> None:
        if name == "train":
            self._finish_progress()
            if self.plots is not None:
                self.plots.flush()
            if isinstance(result, FitEnd):
                self._report_fit_end(result)
                if result.checkpoint:
                    self.trained.emit(result)
        elif name == "lr_find" and isinstance(result, LRFinderResult):
            self._finish_progress()
            self.show_lr_result(result)
        self._update_buttons()

    def _report_fit_end(self, r: FitEnd) -> None:
        head = "Stopped" if r.cancelled else "Done"
        metric = f", best metric {r.best_metric:.4f}" if r.best_metric is not None else ""
        kept = f" The model is saved in {r.checkpoint}." if r.checkpoint else " No model was kept."
        skipped = f" {len(self.skipped)} image(s) were skipped." if self.skipped else ""
        self.status.setText(
            f"{head}: {r.epochs_done} epoch(s), best epoch {r.best_epoch + 1}{metric}.{kept}"
            f"{skipped}"
        )

    def show_lr_result(self, r: LRFinderResult) -> None:
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
            self.settings.set_lr(self.lr_plot.suggestion)

    def _finish_progress(self) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.progress.setFormat("Finished")

    @Slot(str, str)
    def _on_failed(self, name: str, message: str) -> None:
        if name in ("train", "lr_find"):
            self.progress.setRange(0, 1)
            self.progress.setValue(0)
            self.progress.setFormat("Failed")
            self.status.setText(f"<span style='color:#b00020'>Training stopped: {message}</span>")
        self._update_buttons()

    @Slot(str)
    def _on_cancelled(self, name: str) -> None:
        if name in ("train", "lr_find"):
            self.progress.setFormat("Stopped")
            self.progress.setRange(0, 1)
            self.status.setText("Stopped. The best model so far is kept in the project.")
        self._update_buttons()


def _online(timeout: float = 1.5) -> bool:
    """A quick look whether the weights server can be reached (no data is fetched)."""
    try:
        socket.create_connection(("download.pytorch.org", 443), timeout=timeout).close()
    except OSError:
        return False
    return True


def _engine_info(task: str):
    """(architectures, device info, online) — imports torch, so it runs on a helper thread."""
    from engine.devices import describe_device
    from engine.models.registry import architectures_for

    return task, architectures_for(task), describe_device("auto"), _online()

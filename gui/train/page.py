"""The Train page: choose a network and settings, press Train, watch it learn.

Engine work runs only through the shared EngineBridge (jobs JobName.TRAIN and JobName.LR_FIND,
in gui.jobs.train). The networks for the project's task, the device and the project's stored
training history are looked up on the bridge's thread (they need torch) right after a project
opens, behind any job submitted with it, so opening a project never waits for them. The pre-run
check of the pretrained weights happens before anything is submitted: offline without cached
weights the page says so and offers the ways out.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QWidget

from engine.config import TrainConfig
from engine.events import FitEnd, LRFinderResult
from gui.common.online import OnlineProbe
from gui.common.project_page import ProjectPage
from gui.jobs.names import TRAINING_JOBS, JobName
from gui.jobs.runs import runs_overview, use_run_job
from gui.jobs.train import TrainPageInfo, lr_find_job, train_job, train_page_info
from gui.jobs.train_child import train_child_job
from gui.state import AppState
from gui.train.run_view import RunView
from gui.train.runs_panel import RunsPanel
from gui.train.settings import SettingsPanel

READY = "Ready. Press Train to start."


class TrainPage(ProjectPage, QWidget):
    title = "Train"
    trained = Signal(object)  # FitEnd, after a run that kept a model
    model_changed = Signal()  # the user chose another run's model

    def __init__(self, bridge, state: AppState | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self._use_state(state)
        self._info_wanted = False  # the open project's info is still to be looked up
        self._child = False  # the running training is a torchrun child (no pause)
        self._online = OnlineProbe(self)
        self._online.finished.connect(self._on_online)

        self.settings = SettingsPanel(self)
        self.settings.train_clicked.connect(self.start_training)
        self.settings.find_clicked.connect(self.start_lr_find)
        self.settings.scratch_clicked.connect(self._train_from_scratch)
        self.settings.choose_weights_clicked.connect(self._choose_weights)
        self.settings.download_clicked.connect(self._download_and_train)
        self.run = RunView(self)
        self.run.pause_clicked.connect(self._toggle_pause)
        self.run.stop_clicked.connect(self.stop)
        self.run.lr_chosen.connect(self.settings.set_lr)
        self.runs = RunsPanel(self)  # every run side by side, and the model in use
        self.runs.setVisible(False)
        self.runs.use_requested.connect(self.use_run)
        self.run.right_split.addWidget(self.runs)
        self._history: tuple = ()  # the stored run's epochs, shown once the runs are known
        lay = QHBoxLayout(self)
        lay.addWidget(self.settings)
        lay.addWidget(self.run, 1)

        for name in TRAINING_JOBS:
            signals = bridge.job(name)
            signals.events.connect(self.run.on_events)
            signals.failed.connect(self._on_failed)
            signals.cancelled.connect(self._on_cancelled)
        bridge.job(JobName.TRAIN).finished.connect(self._on_trained)
        bridge.job(JobName.LR_FIND).finished.connect(self._on_lr_found)
        bridge.job(JobName.USE_RUN).finished.connect(self._on_run_used)
        bridge.job(JobName.USE_RUN).failed.connect(self._on_use_failed)
        bridge.busy_changed.connect(self._update_buttons)
        self._follow_project()

    # ------------------------------------------------------------------ project
    @Slot(object)
    def _show_project(self, project) -> None:
        """Forget the last project's run; the new one's info is looked up next."""
        self.settings.set_project(project)
        self.run.reset("Loading the list of networks…" if project else "Open a project first.")
        self.runs.show_runs(())
        self._history = ()
        self._info_wanted = project is not None
        if self._info_wanted:
            # from the event loop: a job submitted along with the opening (an import into a
            # project made from a drop) is queued first, as the lookup is not needed during it
            QTimer.singleShot(0, self._look_up_info)
        self._update_buttons()

    @Slot()
    def _look_up_info(self) -> None:
        if self._info_wanted and self.project is not None:
            self._info_wanted = False
            self.bridge.call(train_page_info, self.project, done=self._on_info)
            self._online.start()

    @Slot(object)
    def _on_info(self, info: TrainPageInfo | Exception) -> None:
        if isinstance(info, Exception):
            self.run.status.setText(f"Could not load the list of networks: {info}")
            return
        if self.project is None or str(self.project.path) != info.project_path:
            return  # an answer for a project that is no longer shown
        self.settings.set_engine_info(info.archs, info.device)
        self.settings.set_gpu_count(info.gpus)
        if self.running:
            return
        if info.history:
            self._history = info.history
            self.run.show_history(info.history)
        else:
            self.run.status.setText(info.history_error or READY)
        self.refresh_runs()

    # ------------------------------------------------------------------ runs
    def refresh_runs(self) -> None:
        """Look the runs up again (after opening, after a run, after choosing one)."""
        if self.project is not None:
            self.bridge.call(runs_overview, self.project, "", done=self._on_runs)

    @Slot(object)
    def _on_runs(self, overview) -> None:
        if isinstance(overview, Exception):
            self.runs.show_runs(())
            return
        if self.project is None or str(self.project.path) != overview.project_path:
            return
        self.runs.show_runs(overview.rows)
        if self.running:
            return
        if self._history and overview.rows:  # how the stored run ended, not always "Finished"
            self.run.show_history(self._history, overview.rows[0].status_text)
        self.run.verdict.show_verdict(overview.verdict)

    def use_run(self, run_id: str) -> bool:
        """Make run `run_id`'s model the one Evaluate and Predict use (the CLI's use-run)."""
        if self.project is None or self.bridge.busy:
            return False
        if why := self.state.refuse_change():
            self.state.message.emit(why)
            return False
        self.run.status.setText(f"Switching the model in use to run {run_id}…")
        return self.bridge.submit(JobName.USE_RUN, use_run_job, self.project, run_id)

    @Slot(object)
    def _on_run_used(self, evaluation) -> None:
        self.run.status.setText(f"Evaluate and Predict now use run {evaluation.run_id}'s model.")
        self.model_changed.emit()
        self._history = ()  # shown already: the refresh only updates the table
        self.refresh_runs()

    @Slot(str)
    def _on_use_failed(self, message: str) -> None:
        self.run.status.setText(f"The model in use is unchanged: {message}")

    @Slot(bool)
    def _on_online(self, online: bool) -> None:
        self.settings.online = online

    # ------------------------------------------------------------------ starting
    @property
    def running(self) -> bool:
        return self.bridge.job_name in TRAINING_JOBS

    def _prepared_config(self) -> TrainConfig | None:
        """The settings as a config, saved, with the weights checked; None = do not start."""
        if self.project is None or self.bridge.busy:
            return None
        if why := self.state.refuse_change():  # a run writes models/ and training.json
            self.run.status.setText(f"Not started: {why}")
            self.state.message.emit(why)
            return None
        cfg = self.settings.config()
        if cfg is None:
            return None
        cfg.leave_one_core = True  # the UI keeps a core for itself
        self.project.save_settings(cfg.to_dict())
        if not self.settings.check_weights(cfg):
            self.run.status.setText("Not started: the pretrained weights are not on this computer.")
            return None
        return cfg

    def start_training(self) -> bool:
        cfg = self._prepared_config()
        if cfg is None:
            return False
        gpus = self.settings.gpus_to_use()
        if gpus > 1:  # the same run under torchrun, one process per GPU (gui.jobs.train_child)
            self.run.begin(f"Starting {gpus} training processes, one per GPU…", "Starting…")
            self._child = self.bridge.submit(
                JobName.TRAIN, train_child_job, self.project, cfg, gpus
            )
            self._update_buttons()
            return self._child
        self.run.begin("Preparing the images and the network…", "Starting…")
        return self.bridge.submit(JobName.TRAIN, train_job, self.project, cfg)

    def start_lr_find(self) -> bool:
        cfg = self._prepared_config()
        if cfg is None:
            return False
        self.run.begin(
            "Finding a learning rate…",
            "Trying learning rates from tiny to large on a few batches…",
            new_run=False,
        )
        return self.bridge.submit(JobName.LR_FIND, lr_find_job, self.project, cfg)

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

    @Slot()
    def stop(self) -> None:
        if self.running:
            self.bridge.cancel()
            self.run.status.setText("Stopping after this batch…")

    @Slot()
    def _toggle_pause(self) -> None:
        if not self.running:
            return
        if self.bridge.paused:
            self.bridge.resume()
            self.run.status.setText("Resumed.")
        else:
            self.bridge.pause()
            self.run.status.setText("Paused. Press Resume to go on.")
        self._update_buttons()

    @Slot(bool)
    def _update_buttons(self, *_args) -> None:
        mine = self.running
        self._child = self._child and mine
        self.settings.set_can_start(self.project is not None and not self.bridge.busy)
        self.runs.set_can_change(self.project is not None and not self.bridge.busy)
        self.run.set_controls(
            can_pause=self.bridge.job_name == JobName.TRAIN and not self._child,
            paused=mine and self.bridge.paused,
            can_stop=mine,
        )

    # ------------------------------------------------------------------ endings
    @Slot(object)
    def _on_trained(self, result) -> None:
        if isinstance(result, FitEnd):
            self.run.fit_end(result)
            self._history = ()
            if result.checkpoint:
                self.trained.emit(result)
            self.refresh_runs()
        self._update_buttons()

    @Slot(object)
    def _on_lr_found(self, result) -> None:
        if isinstance(result, LRFinderResult):
            self.run.lr_result(result)
        self._update_buttons()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.run.failed(message)
        self.refresh_runs()
        self._update_buttons()

    @Slot()
    def _on_cancelled(self) -> None:
        self.run.stopped()
        self.refresh_runs()
        self._update_buttons()

"""The Train page's settings column: network, weights, schedule, augmentation, device.

Every change is saved into the project at once (training.json). Before a run starts,
`check_weights` makes sure the pretrained weights are here (or may be downloaded); when not, it
shows why and the ways out, and nothing starts.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine.config import TrainConfig
from engine.models.registry import default_arch, fitting_arch
from gui.common.help_texts import help_button, tip
from gui.train.network_chooser import NetworkCombo


def _row(widget: QWidget, key: str) -> QWidget:
    """A form field with its "?" button beside it."""
    host = QWidget()
    lay = QHBoxLayout(host)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(widget, 1)
    lay.addWidget(help_button(key, host))
    widget.setToolTip(tip(key))
    return host


class SettingsPanel(QScrollArea):
    """The left column: network, weights, schedule, augmentation, device, Train / Find."""

    train_clicked = Signal()
    find_clicked = Signal()
    scratch_clicked = Signal()
    choose_weights_clicked = Signal()
    download_clicked = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.project = None
        self._filling = False
        self._weights_file = ""
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumWidth(330)
        self.setMaximumWidth(400)
        body = QWidget()
        self.setWidget(body)
        col = QVBoxLayout(body)

        self.arch = NetworkCombo()  # curated networks + "More networks…" (any timm model)
        self.arch_desc = QLabel()
        self.arch_desc.setWordWrap(True)
        self.arch_desc.setStyleSheet("color:#555;")
        self.pretrained = QCheckBox("Start from pretrained weights")
        self.weights_box = QGroupBox("Pretrained weights needed")
        self.weights_msg = QLabel()
        self.weights_msg.setWordWrap(True)
        self.weights_msg.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.scratch_button = QPushButton("Train from scratch")
        self.scratch_button.setToolTip("Start from random weights: slower, needs more images.")
        self.choose_button = QPushButton("Choose weights file…")
        self.download_button = QPushButton("Download and train")
        self.download_button.setToolTip("Fetch the weights from the internet (once), then train.")
        self.online = True  # set from a quick check when the engine info loads
        wl = QVBoxLayout(self.weights_box)
        wl.addWidget(self.weights_msg)
        wb = QHBoxLayout()
        wb.addWidget(self.download_button)
        wb.addWidget(self.scratch_button)
        wb.addWidget(self.choose_button)
        wl.addLayout(wb)
        self.weights_box.setVisible(False)
        self.scratch_button.clicked.connect(self.scratch_clicked)
        self.choose_button.clicked.connect(self.choose_weights_clicked)
        self.download_button.clicked.connect(self.download_clicked)
        self._download_ok = False  # the user agreed to download for this run

        self.epochs = QSpinBox()
        self.epochs.setRange(1, 1000)
        self.freeze = QSpinBox()  # part of `epochs`; only a pretrained body is frozen
        self.freeze.setRange(0, 1)
        self.freeze.setSuffix(" frozen")
        self._freeze_pretrained = 1  # the value shown again when pretrained is ticked
        self.lr = QLineEdit()
        self.lr.setPlaceholderText("0.002")
        self.find_button = QPushButton("Find")
        self.find_button.setToolTip(tip("lr_finder"))
        self.find_button.clicked.connect(self.find_clicked)
        lr_host = QWidget()
        lr_lay = QHBoxLayout(lr_host)
        lr_lay.setContentsMargins(0, 0, 0, 0)
        lr_lay.addWidget(self.lr, 1)
        lr_lay.addWidget(self.find_button)
        self.batch = QSpinBox()
        self.batch.setRange(1, 1024)
        self.size = QSpinBox()
        self.size.setRange(16, 1024)
        self.size.setSingleStep(32)
        self.size.setSuffix(" px")
        self.flip = QCheckBox("flip")
        self.rotate = QCheckBox("rotate")
        self.crop = QCheckBox("crop")
        self.color = QCheckBox("colour")
        aug = QWidget()
        al = QHBoxLayout(aug)
        al.setContentsMargins(0, 0, 0, 0)
        for w in (self.flip, self.rotate, self.crop, self.color):
            al.addWidget(w)
        self.balance = QComboBox()  # TrainConfig.balance; Tools > Check data offers it
        for value, text in (("none", "Off"), ("weighted_loss", "Class-weighted loss"),
                            ("sampler", "Balanced sampler")):  # fmt: skip
            self.balance.addItem(text, value)
        self.balance.setToolTip("For imbalanced classes: weight the loss per class, or draw "
                                "images so that each class is seen equally often.")  # fmt: skip
        self.device = QLabel("…")
        self.device.setWordWrap(True)
        self.all_gpus = QCheckBox("Use all GPUs")  # shown when more than one is visible
        self.all_gpus.setToolTip(
            "Train one model on every GPU of this computer at once (torchrun, one process per "
            "GPU). The batch size is split between the GPUs. Pause is not available then."
        )
        self.all_gpus.setVisible(False)
        self._gpus = 0

        form = QFormLayout()
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.addRow("Network", self.arch)
        form.addRow(self.arch_desc)
        form.addRow(_row(self.pretrained, "pretrained"))
        form.addRow(self.weights_box)
        form.addRow("Epochs", _row(self.epochs, "epochs"))
        form.addRow("  of which", _row(self.freeze, "frozen"))
        form.addRow("Learning rate", _row(lr_host, "lr"))
        form.addRow("Batch size", _row(self.batch, "batch_size"))
        form.addRow("Image size", _row(self.size, "image_size"))
        form.addRow("Augment", _row(aug, "augmentation"))
        form.addRow("Class balance", self.balance)
        form.addRow("Device", _row(self.device, "device"))
        form.addRow(self.all_gpus)
        col.addLayout(form)
        self.error = QLabel()
        self.error.setStyleSheet("color:#b00020;")
        self.error.setWordWrap(True)
        col.addWidget(self.error)
        self.train_button = QPushButton("Train")
        self.train_button.setDefault(True)
        self.train_button.setMinimumHeight(34)
        self.train_button.clicked.connect(self.train_clicked)
        col.addWidget(self.train_button)
        col.addStretch(1)

        self.arch.currentIndexChanged.connect(self._arch_changed)
        self.epochs.valueChanged.connect(self._sync_freeze)
        self.pretrained.toggled.connect(self._sync_freeze)
        self.freeze.valueChanged.connect(self._remember_freeze)
        self.balance.currentIndexChanged.connect(self._save)
        for w in (self.freeze, self.epochs, self.batch, self.size):
            w.valueChanged.connect(self._save)
        for w in (self.pretrained, self.flip, self.rotate, self.crop, self.color):
            w.toggled.connect(self._save)
        self.pretrained.toggled.connect(lambda _on: self.weights_box.setVisible(False))
        self.lr.editingFinished.connect(self._save)
        self._fill(TrainConfig())

    # ------------------------------------------------------------------ filling
    def set_project(self, project) -> None:
        self.project = None  # no saving while filling
        cfg = TrainConfig.from_dict(project.load_settings()) if project is not None else None
        self._fill(cfg or TrainConfig(), project.task if project is not None else "classification")
        self.project = project
        self.weights_box.setVisible(False)

    def _fill(self, cfg: TrainConfig, task: str = "classification") -> None:
        self._filling = True
        try:
            arch = fitting_arch(cfg.arch, task) or default_arch(task)  # not another task's
            self.arch.add_network(arch)  # selects it (added first if not listed)
            self.pretrained.setChecked(cfg.weights != "none")
            self._weights_file = cfg.weights if cfg.weights not in ("none", "imagenet") else ""
            self.epochs.setValue(cfg.epochs)
            self._freeze_pretrained = max(0, min(cfg.freeze_epochs, cfg.epochs))
            self._sync_freeze()
            self.lr.setText("auto" if cfg.lr is None else f"{cfg.lr:.3g}")
            self.batch.setValue(cfg.batch_size)
            self.size.setValue(cfg.image_size)
            self.flip.setChecked(cfg.flip)
            self.rotate.setChecked(cfg.rotate)
            self.crop.setChecked(cfg.resized_crop)
            self.color.setChecked(cfg.color_jitter)
            self.balance.setCurrentIndex(max(0, self.balance.findData(cfg.balance)))
        finally:
            self._filling = False
        self._base = cfg

    def _sync_freeze(self, *_args) -> None:
        """Frozen epochs are part of the total and exist only for a pretrained body."""
        on = self.pretrained.isChecked()
        self._freeze_pretrained = min(self._freeze_pretrained, self.epochs.value())
        was = self._filling
        self._filling = True  # showing, not choosing: keep the remembered value
        try:
            self.freeze.setRange(0, self.epochs.value())
            self.freeze.setValue(self._freeze_pretrained if on else 0)
            self.freeze.setEnabled(on)
            self.freeze.setToolTip(
                tip("frozen") if on else "Training from scratch: no epoch is frozen."
            )
        finally:
            self._filling = was

    def _remember_freeze(self, value: int) -> None:
        if not self._filling and self.pretrained.isChecked():
            self._freeze_pretrained = value

    def set_engine_info(self, archs, device) -> None:
        """Fill the network list (name + one-line description) and show the device."""
        self._filling = True
        try:
            task = self.project.task if self.project is not None else "classification"
            self.arch.set_archs(archs, task)
        finally:
            self._filling = False
        self._arch_changed()
        if device is not None:
            where = device.name if device.kind != "cpu" else "CPU"
            hint = f"<br><span style='color:#555'>{device.hint}</span>" if device.hint else ""
            self.device.setText(f"<b>{where}</b>{hint}")

    def set_gpu_count(self, n: int) -> None:
        """Offer 'Use all N GPUs' when more than one CUDA GPU is visible."""
        self._gpus = int(n)
        self.all_gpus.setText(f"Use all {self._gpus} GPUs")
        self.all_gpus.setVisible(self._gpus > 1)
        if self._gpus <= 1:
            self.all_gpus.setChecked(False)

    def gpus_to_use(self) -> int:
        """How many GPUs a run should use as processes of its own: N when 'Use all N GPUs'
        is on, else 0 (the run stays in the app's process)."""
        return self._gpus if self._gpus > 1 and self.all_gpus.isChecked() else 0

    def _arch_changed(self, *_args) -> None:
        self.arch_desc.setText(self.arch.currentData(Qt.ItemDataRole.ToolTipRole) or "")
        self.weights_box.setVisible(False)
        self._save()

    # ------------------------------------------------------------------ reading
    def config(self) -> TrainConfig | None:
        """The settings as a TrainConfig (unknown saved keys kept); None if one is invalid."""
        cfg = TrainConfig.from_dict(self._base.to_dict())
        text = self.lr.text().strip().lower()
        if text in ("", "auto"):
            cfg.lr = None
        else:
            try:
                cfg.lr = float(text)
                if not 0 < cfg.lr < 10:
                    raise ValueError
            except ValueError:
                self.error.setText(
                    f"The learning rate “{self.lr.text()}” is not a number between 0 and 10 "
                    "(for example 0.001), nor “auto”."
                )
                return None
        self.error.clear()
        cfg.arch = self.arch.currentData() or cfg.arch
        if not self.pretrained.isChecked():
            cfg.weights = "none"
        else:
            cfg.weights = self._weights_file or "imagenet"
        cfg.epochs = self.epochs.value()
        cfg.freeze_epochs = min(self._freeze_pretrained, cfg.epochs)
        cfg.batch_size = self.batch.value()
        cfg.image_size = self.size.value()
        cfg.flip = self.flip.isChecked()
        cfg.rotate = self.rotate.isChecked()
        cfg.resized_crop = self.crop.isChecked()
        cfg.color_jitter = self.color.isChecked()
        cfg.balance = self.balance.currentData() or "none"
        return cfg

    def _save(self, *_args) -> None:
        if self._filling or self.project is None or self.project.read_only:
            return  # a read-only project keeps its saved settings; the page still shows them
        cfg = self.config()
        if cfg is not None:
            self.project.save_settings(cfg.to_dict())
            self._base = cfg

    def allow_download(self) -> None:
        """The user asked to fetch the missing weights: the next check lets the run start."""
        self._download_ok = True

    def check_weights(self, cfg: TrainConfig) -> bool:
        """True when the run can start; else shows why and the ways out (nothing starts)."""
        if cfg.weights == "none":
            self.weights_box.setVisible(False)
            return True
        from engine.models.registry import weights_status

        status = weights_status(cfg.arch, cfg.weights)
        downloadable = bool(status.url) and self.online
        if status.available or (downloadable and self._download_ok):
            self._download_ok = False
            self.weights_box.setVisible(False)
            return True
        offline = "" if self.online or not status.url else "This computer seems to be offline. "
        self.weights_msg.setText(
            f"{offline}{status.message}<br><br>You can train from scratch instead (slower, needs "
            "more images), or choose a weights file you already have."
        )
        self.download_button.setVisible(downloadable)
        self.weights_box.setVisible(True)
        self.ensureWidgetVisible(self.weights_box)
        return False

    # ------------------------------------------------------------------ setting
    def set_pretrained(self, on: bool) -> None:
        self.pretrained.setChecked(on)
        if not on:
            self._weights_file = ""
        self._save()

    def set_weights_file(self, path: str) -> None:
        self._weights_file = path
        self.pretrained.setChecked(True)
        self._save()

    def set_lr(self, value: float) -> None:
        self.lr.setText(f"{value:.3g}")
        self._save()

    def set_can_start(self, on: bool) -> None:
        self.train_button.setEnabled(on)
        self.find_button.setEnabled(on)

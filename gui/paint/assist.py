"""Model help in the mask editor: "Start from the model's prediction" (the current image's mask
becomes the model's, one undo step, only on request) and "Next image to label" (the unlabeled
image where the model is least certain, by mean pixel entropy). Both run on the bridge's worker
thread as jobs (gui.jobs.paint), so the editor stays responsive."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from gui.common.wrap_label import WrapLabel
from gui.jobs.names import JobName
from gui.jobs.paint import has_model, least_certain_job, predicted_mask_job


class ModelAssist(QWidget):
    """The two model buttons under the paint tools; `go_to(image_id)` asks to show an image."""

    go_to = Signal(int)

    def __init__(self, editor):
        super().__init__(editor)
        self.editor = editor
        self.bridge = None
        self.cache: dict = {}
        lay = QVBoxLayout(self)  # the buttons, then what the model says (nothing is cut)
        lay.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.start_button = QPushButton("Start from the model's prediction")
        self.start_button.setToolTip(
            "Replace this image's mask with what the trained model predicts, to correct it "
            "(Ctrl+Z puts the old mask back)"
        )
        self.next_button = QPushButton("Next image to label")
        self.next_button.setToolTip(
            "Go to the image without a mask where the model is least certain"
        )
        self.start_button.clicked.connect(self.start_from_prediction)
        self.next_button.clicked.connect(self.next_to_label)
        self.status = WrapLabel()
        self.status.setStyleSheet("color:#5f6b7a;")
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.next_button)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        lay.addWidget(self.status)

    def set_bridge(self, bridge) -> None:
        self.bridge = bridge
        bridge.job(JobName.PREDICT_MASK).finished.connect(self._on_mask)
        bridge.job(JobName.LEAST_CERTAIN).finished.connect(self._on_least_certain)
        for name in (JobName.PREDICT_MASK, JobName.LEAST_CERTAIN):
            bridge.job(name).failed.connect(lambda msg: self.status.setText(f"Failed: {msg}"))

    def refresh(self) -> None:
        """Enable the buttons when there is a trained model and a worker to run it."""
        p = self.editor.project
        ok = self.bridge is not None and p is not None and has_model(p.path)
        for b in (self.start_button, self.next_button):
            b.setEnabled(ok)
        if p is not None and not ok:
            self.status.setText("Train a model to get its help here.")
        elif ok and self.status.text().startswith("Train a model"):
            self.status.setText("")

    def _submit(self, name: JobName, fn, *args) -> None:
        if not self.bridge.submit(name, fn, str(self.editor.project.path), *args, self.cache):
            self.status.setText("Busy with another job (e.g. training); try again after it.")
        else:
            self.status.setText(name.text)

    def start_from_prediction(self) -> None:
        v = self.editor.viewer
        if v.record is None or self.bridge is None:
            return
        self._submit(
            JobName.PREDICT_MASK,
            predicted_mask_job,
            v.record.id,
            str(v.project.abspath(v.record.file)),
        )

    def _on_mask(self, result) -> None:
        image_id, mask = result
        v = self.editor.viewer
        if v.record is None or v.record.id != image_id:
            self.status.setText("The image changed meanwhile; the prediction was not used.")
            return
        ok = self.editor.replace_mask(mask, "start from the model's prediction")
        self.status.setText("The model's prediction: correct it with the tools." if ok else "")

    def next_to_label(self) -> None:
        p = self.editor.project
        if p is None or self.bridge is None:
            return
        ids = p.query(unlabeled=True)
        if not ids:
            self.status.setText("Every image has a mask.")
            return
        items = [(r.id, str(p.abspath(r.file))) for r in p.images(ids)]
        self._submit(JobName.LEAST_CERTAIN, least_certain_job, items)

    def _on_least_certain(self, result) -> None:
        if result is None:
            self.status.setText("No unlabeled image could be read.")
            return
        image_id, ent = result
        self.status.setText(f"Least certain: entropy {ent:.2f} of the maximum 1.")
        self.go_to.emit(image_id)

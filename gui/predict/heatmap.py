"""The Predict page's heatmap panel: Grad-CAM overlay (where the model looks) for the predicted
class or a chosen one, with its own opacity slider. Computed on the worker thread (JobName.HEATMAP)
and cached per image and class, so moving the slider only re-blends."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QSlider, QVBoxLayout, QWidget

from gui.jobs.heatmap import heatmap_job
from gui.jobs.names import JobName

PREDICTED = "the predicted class"


class HeatmapPanel(QWidget):
    """Shown for classification and multi-label results; paints into `page.view`."""

    def __init__(self, bridge, page, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge, self.page = bridge, page
        self.maps: dict[tuple[str, str | None], np.ndarray] = {}
        self._path: str | None = None
        self._image: np.ndarray | None = None
        self.toggle = QCheckBox("Heatmap: where the model looks")
        self.toggle.toggled.connect(self._request)
        self.classes = QComboBox()
        self.classes.currentIndexChanged.connect(self._request)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.valueChanged.connect(self.redraw)
        self.note = QLabel()
        self.note.setWordWrap(True)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 8, 0, 0)
        for w in (self.toggle, QLabel("Heatmap for"), self.classes, QLabel("Heatmap opacity"),
                  self.opacity, self.note):  # fmt: skip
            lay.addWidget(w)
        job = bridge.job(JobName.HEATMAP)
        job.finished.connect(self._on_done)
        job.failed.connect(lambda msg: self.note.setText(f"No heatmap: {msg}"))
        self.setVisible(False)

    def reset(self) -> None:
        self._path, self._image = None, None
        self.setVisible(False)

    def show_for(self, path: str, pred, image: np.ndarray, names: list[str]) -> None:
        """A new result is shown: offer its classes; repaint if the heatmap is switched on."""
        self._path, self._image = path, image
        self.setVisible(pred.task in ("classification", "multilabel"))
        self.classes.blockSignals(True)
        self.classes.clear()
        self.classes.addItem(PREDICTED)
        self.classes.addItems(names)
        self.classes.blockSignals(False)
        self.note.clear()
        self._request()

    def _key(self) -> tuple[str, str | None]:
        cls = self.classes.currentText()
        return (self._path or "", None if cls in ("", PREDICTED) else cls)

    @Slot()
    def _request(self, *_args) -> None:
        if not self.toggle.isChecked() or self._path is None:
            self.redraw()
            return
        key = self._key()
        if key in self.maps:
            self.redraw()
            return
        project = self.page.project
        if project is None:
            return
        self.note.setText("Computing…")
        if not self.bridge.submit(JobName.HEATMAP, heatmap_job, str(project.path), key[0],
                                  key[1], self.page.cache):  # fmt: skip
            self.note.setText("Busy: the heatmap is made when the running job ends.")

    @Slot(object)
    def _on_done(self, result) -> None:
        path, name, cam = result
        self.maps[(path, name)] = cam
        if name == self._predicted_name(path):
            self.maps[(path, None)] = cam
        self.note.setText(
            "Red: strongest evidence for this class."
            if float(cam.max()) > 0
            else "Nothing in this image raises this class's score."
        )
        self.redraw()

    def _predicted_name(self, path: str) -> str | None:
        pred = self.page.results.get(path, (None,))[0]
        return getattr(pred, "label", None)

    @Slot()
    def redraw(self, *_args) -> None:
        """Blend the heatmap over the image (or show the plain image when switched off)."""
        if self._image is None or self._path != self.page._current:
            return
        cam = self.maps.get(self._key()) if self.toggle.isChecked() else None
        if cam is None:
            self.page.view.set_array(self._image)
            return
        from PIL import Image

        from engine.interpret.gradcam import overlay

        out = overlay(Image.fromarray(self._image), cam, self.opacity.value() / 100)
        self.page.view.set_array(np.asarray(out))

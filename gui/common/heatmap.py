"""The heatmap panel (Grad-CAM: where the model looks), shared by the Predict and Evaluate pages.

It knows nothing of the page it sits on: it paints into any view with `set_array(HxWx3 uint8)`
and asks a `project()` callable for the open project. A map is computed on the worker thread
(JobName.HEATMAP) for the predicted class or any class the user picks, and kept per image and
class for the model in use (a new model file drops them), so moving the slider only re-blends.
Only classification and multi-label models have heatmaps; for other tasks the panel says why.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QSlider, QVBoxLayout, QWidget

from engine.interpret.gradcam import CAM_TASKS
from gui.common.model_in_use import model_key
from gui.jobs.heatmap import heatmap_job
from gui.jobs.names import JobName

PREDICTED = "the predicted class"
TRAIN_FIRST = "Train a model first: the heatmap shows where the trained model looks."
WHY_NOT = {
    "segmentation": "No heatmap for segmentation: the predicted mask already shows, pixel by "
    "pixel, what the model sees where.",
    "regression": "No heatmap for regression models: heatmaps explain a class score.",
}


class HeatmapPanel(QWidget):
    """Switch, class choice and opacity of a Grad-CAM overlay painted into `view`."""

    def __init__(
        self,
        bridge,
        view,
        project: Callable[[], object],
        cache: dict | None = None,
        parent: QWidget | None = None,
        *,
        offer_training: Callable[[], None] | None = None,
    ):
        super().__init__(parent)
        self.bridge, self.view, self._project = bridge, view, project
        self._offer_training = offer_training  # the "Go to Train" link of the train-first note
        self.cache = cache if cache is not None else {}  # the loaded Predictor (worker side)
        self.maps: dict[tuple[str, str | None], np.ndarray] = {}
        self._model: tuple[str, int] | None = None  # the model the maps belong to
        self._path: str | None = None
        self._image: np.ndarray | None = None
        self._waiting = False  # a job of this panel runs (the HEATMAP signals are shared)
        self._deferred = False  # a map was asked for while the panel was hidden
        self.toggle = QCheckBox("Heatmap: where the model looks")
        self.toggle.setToolTip(
            "Grad-CAM: red marks the parts of the image that raise the chosen class's score most."
        )
        self.toggle.toggled.connect(self._request)
        self.classes = QComboBox()
        self.classes.currentIndexChanged.connect(self._request)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.valueChanged.connect(self.redraw)
        self.note = QLabel()
        self.note.setWordWrap(True)
        # room for three lines: a wrapped label in a nested layout is not always given its height
        self.note.setMinimumHeight(3 * self.note.fontMetrics().lineSpacing() + 4)
        self.note.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.note.linkActivated.connect(self._link)
        self.controls = [self.toggle, QLabel("Heatmap for"), self.classes]
        self.controls += [QLabel("Heatmap opacity"), self.opacity]
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 8, 0, 0)
        for w in (*self.controls, self.note):
            lay.addWidget(w)
        job = bridge.job(JobName.HEATMAP)
        job.finished.connect(self._on_done)
        job.failed.connect(self._on_failed)
        job.cancelled.connect(self._on_cancelled)
        self.setVisible(False)

    # ------------------------------------------------------------------ what is shown
    def reset(self) -> None:
        """Nothing shown: the panel hides until the next `show_for`."""
        self._path, self._image = None, None
        self.setVisible(False)

    def show_for(
        self, path: str, image: np.ndarray, task: str, names: list[str], predicted=()
    ) -> None:
        """Image `path` (pixels `image`) is shown: offer the model's classes `names` (the
        `predicted` ones marked) and repaint it if the heatmap is switched on."""
        self._path, self._image = path, image
        self.setVisible(True)
        ok = task in CAM_TASKS
        for w in self.controls:
            w.setVisible(ok)
        self.note.setText("" if ok else WHY_NOT.get(task, f"No heatmap for {task} models."))
        if not ok:
            self._path = None
            return
        keep = self.classes.currentData()
        self.classes.blockSignals(True)
        self.classes.clear()
        self.classes.addItem(PREDICTED, None)
        for n in names:
            self.classes.addItem(f"{n}  (predicted)" if n in predicted else n, n)
        at = self.classes.findData(keep) if keep is not None else 0
        self.classes.setCurrentIndex(max(0, at))
        self.classes.blockSignals(False)
        self._request()

    def set_class(self, name: str | None) -> None:
        """Show the map of class `name` (None: the predicted class)."""
        self.classes.setCurrentIndex(max(0, self.classes.findData(name) if name else 0))

    def current_map(self) -> np.ndarray | None:
        """The map painted now (None when switched off or not computed yet)."""
        return self.maps.get(self._key()) if self.toggle.isChecked() else None

    def _key(self) -> tuple[str, str | None]:
        return (self._path or "", self.classes.currentData())

    # ------------------------------------------------------------------ computing
    @Slot()
    def _link(self, href: str) -> None:
        if href == "train" and self._offer_training is not None:
            self._offer_training()

    def _request(self, *_args) -> None:
        if not self.toggle.isChecked() or self._path is None:
            self.redraw()
            return
        if not self.isVisible():  # e.g. its page was refreshed after training, in another tab
            self._deferred = True  # computed when shown, not holding the worker meanwhile
            self.redraw()
            return
        self._deferred = False
        project = self._project()
        key = model_key(project)
        if key is None:
            offer = ' <a href="train">Go to Train</a>' if self._offer_training else ""
            self.note.setText(TRAIN_FIRST + offer)
            self.redraw()
            return
        if key != self._model:  # a new model: the old maps show what it no longer sees
            self.maps.clear()
            self._model = key
        if self._key() in self.maps:
            self.note.setText(self._explain(self.maps[self._key()]))
            self.redraw()
            return
        self.redraw()  # the plain image until the map arrives
        path, name = self._key()
        if self.bridge.submit(JobName.HEATMAP, heatmap_job, str(project.path), path, name,
                              self.cache):  # fmt: skip
            self._waiting = True
            self.note.setText("Computing the heatmap…")
        else:
            self.note.setText("Busy with another job: switch the heatmap on again after it.")

    @Slot(object)
    def _on_done(self, result) -> None:
        if not self._waiting:
            return  # another panel's map
        self._waiting = False
        path, asked, name, cam = result
        self.maps[(path, name)] = cam
        self.maps[(path, asked)] = cam  # asked None: the predicted class's map
        if (path, asked) == self._key() or (path, name) == self._key():
            self.note.setText(self._explain(cam))
            self.redraw()
        elif self.toggle.isChecked() and self._path is not None:
            self._request()  # the user moved on while it was computed

    @staticmethod
    def _explain(cam: np.ndarray) -> str:
        if float(cam.max()) > 0:
            return "Red: strongest evidence for this class; blue: little."
        return "Nothing in this image raises this class's score."

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        if self._waiting:
            self._waiting = False
            self.note.setText(f"No heatmap: {message}")

    @Slot()
    def _on_cancelled(self) -> None:
        if self._waiting:
            self._waiting = False
            self.note.setText("Heatmap stopped.")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._deferred:
            self._request()

    # ------------------------------------------------------------------ painting
    @Slot()
    def redraw(self, *_args) -> None:
        """Blend the heatmap over the image (or show the plain image when switched off)."""
        if self._image is None or self._path is None:
            return
        cam = self.current_map()
        if cam is None:
            self.view.set_array(self._image)
            return
        from PIL import Image

        from engine.interpret.gradcam import overlay

        out = overlay(Image.fromarray(self._image), cam, self.opacity.value() / 100)
        self.view.set_array(np.asarray(out))

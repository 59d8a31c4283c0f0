"""The Evaluate page's selected-image view: the validation image chosen in the list, with its
label and the model's answer, and beside it the shared heatmap panel (gui.common.heatmap), so a
user sees where the model looked on the images it gets wrong. Classification and multi-label
only; a segmentation evaluation shows its predicted masks instead."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gui.common.heatmap import HeatmapPanel
from gui.common.overlay import ScaledImage
from gui.evaluate.tables import fmt


class EvalHeatmapView(QWidget):
    """Selected image (left) and heatmap controls (right); fed by `show_item`."""

    def __init__(self, bridge, project, parent: QWidget | None = None):
        super().__init__(parent)
        self._project = project
        self.view = ScaledImage("Select a validation image in the list.")
        self.view.setMinimumSize(180, 180)
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.panel = HeatmapPanel(bridge, self.view, project, cache={})
        self.panel.setMinimumWidth(200)
        self.panel.setMaximumWidth(280)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(self.caption)
        left.addWidget(self.view, 1)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(left, 1)
        lay.addWidget(self.panel)

    def clear(self) -> None:
        self.caption.clear()
        self.view.set_array(None)
        self.panel.reset()

    def show_item(self, evaluation, item, record) -> None:
        """Show validation image `record` of `evaluation` (its EvalItem `item`), with the
        image's label now (it may have been fixed since the evaluation)."""
        from engine.imaging import BadImage, load_rgb

        project = self._project()
        if project is None or record is None:
            self.clear()
            return
        path = str(project.abspath(record.file))
        try:
            image = np.asarray(load_rgb(path))
        except (BadImage, OSError) as e:
            self.clear()
            self.caption.setText(str(e))
            return
        truth = record.labels[0] if record.labels else "—"
        if evaluation.task == "multilabel":
            truth = list(record.labels)
        predicted = item.prediction if isinstance(item.prediction, list) else [item.prediction]
        sure = ""
        if item.probabilities and evaluation.task == "classification" and item.prediction:
            names = evaluation.class_names
            if item.prediction in names:
                sure = f" ({item.probabilities[names.index(item.prediction)]:.0%})"
        mark = "" if item.correct is not False else "  <span style='color:#c62828'>wrong</span>"
        self.caption.setText(
            f"<b>{record.name}</b><br>label {fmt(truth)} · predicted {fmt(item.prediction)}"
            f"{sure}{mark}"
        )
        self.view.set_array(image)
        self.panel.show_for(path, image, evaluation.task, list(evaluation.class_names), predicted)

"""The Predict page: drop image files (or pick them) and see what the trained model says.

Classification and multi-label show the top classes with probability bars, regression the
predicted numbers, segmentation a coloured per-pixel overlay with an opacity slider and a legend
whose entries switch classes on and off (plus the ground truth when the image is in the project).
"Predict a folder…" writes a CSV (and mask PNGs) through the bridge, with progress (the jobs are
in gui.jobs.predict).
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.events import Progress
from gui.common.heatmap import HeatmapPanel
from gui.common.overlay import ClassLegend, ScaledImage, blend
from gui.common.project_page import ProjectPage
from gui.jobs.names import PREDICTION_JOBS, JobName
from gui.jobs.predict import expand_paths, predict_files_job, predict_folder_job
from gui.state import AppState

PATH_ROLE = Qt.ItemDataRole.UserRole + 1
READY = "Drop image files here, or choose them."


class PredictPage(ProjectPage, QWidget):
    title = "Predict"

    def __init__(self, bridge, state: AppState | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self._use_state(state)
        self.cache: dict = {}  # the loaded Predictor, shared with the worker jobs
        self.results: dict[str, tuple] = {}  # path -> (Prediction | None, error, truth mask)
        self._image: np.ndarray | None = None
        self._current: str | None = None
        self.setAcceptDrops(True)

        self.choose_button = QPushButton("Choose images…")
        self.choose_button.clicked.connect(self._choose)
        self.folder_button = QPushButton("Predict a folder…")
        self.folder_button.setToolTip("Predict every image in a folder and save a CSV file.")
        self.folder_button.clicked.connect(self._choose_folder)
        self.status = QLabel(READY)
        self.status.setWordWrap(True)
        self.status.linkActivated.connect(lambda _href: self.state.show_page.emit("Train"))
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.choose_button)
        top.addWidget(self.folder_button)
        top.addWidget(self.status, 1)
        top.addWidget(self.progress)

        self.list = QListWidget()
        self.list.setMaximumWidth(260)
        self.list.currentItemChanged.connect(self._current_changed)
        self.view = ScaledImage("Drop an image here")
        self.view.setMinimumSize(260, 260)
        self.truth = ScaledImage("ground truth")
        self.truth.setVisible(False)
        self.truth_title = QLabel("Ground truth (from the project)")
        self.truth_title.setVisible(False)
        views = QGridLayout()
        views.addWidget(QLabel("Prediction"), 0, 0)
        views.addWidget(self.truth_title, 0, 1)
        views.addWidget(self.view, 1, 0)
        views.addWidget(self.truth, 1, 1)
        views.setRowStretch(1, 1)
        center = QWidget()
        center.setLayout(views)

        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setStyleSheet("font-size:15px;")
        self.bars_host = QWidget()
        self.bars = QGridLayout(self.bars_host)
        self.bars.setContentsMargins(0, 0, 0, 0)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(70)
        self.opacity.valueChanged.connect(self._redraw)
        self.opacity_label = QLabel("Overlay opacity")
        self.legend = ClassLegend()
        self.legend.changed.connect(self._redraw)
        side = QVBoxLayout()
        side.addWidget(self.headline)
        side.addWidget(self.bars_host)
        side.addWidget(self.opacity_label)
        side.addWidget(self.opacity)
        side.addWidget(self.legend)
        # Grad-CAM overlay (classification, multi-label), sharing the page's loaded model
        self.heatmap = HeatmapPanel(
            bridge,
            self.view,
            lambda: self.project,
            cache=self.cache,
            offer_training=lambda: self.state.show_page.emit("Train"),
        )
        side.addWidget(self.heatmap)
        side.addStretch(1)
        sidew = QWidget()
        sidew.setLayout(side)
        sidew.setMinimumWidth(240)
        sidew.setMaximumWidth(340)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.list)
        split.addWidget(center)
        split.addWidget(sidew)
        split.setSizes([200, 640, 300])
        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(split, 1)
        self._show_seg_controls(False)

        for name in PREDICTION_JOBS:
            signals = bridge.job(name)
            signals.events.connect(self._on_events)
            signals.failed.connect(self._on_failed)
            signals.cancelled.connect(self._on_cancelled)
        bridge.job(JobName.PREDICT).finished.connect(self._on_predicted)
        bridge.job(JobName.PREDICT_FOLDER).finished.connect(self._on_folder_predicted)
        self._follow_project()

    # ------------------------------------------------------------------ project / model
    @Slot(object)
    def _show_project(self, project) -> None:
        """Nothing predicted yet for `project`: no results, no model loaded, no progress."""
        self.cache.clear()
        self.results.clear()
        self.list.clear()
        self._clear_result()
        self.progress.setVisible(False)
        self.status.setText(READY)

    @Slot()
    @Slot(object)
    def model_changed(self, *_args) -> None:
        """A new model was trained: load it again on the next prediction."""
        self.cache.clear()

    def _colors(self, names: list[str]) -> list[str]:
        from engine.project.store import default_color

        by_name = {c.name: c.color for c in self.project.classes()} if self.project else {}
        return [by_name.get(n, default_color(i)) for i, n in enumerate(names)]

    # ------------------------------------------------------------------ input
    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt name)
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            # asked after the drop returns, so the drag source is not kept waiting on a dialog
            QTimer.singleShot(0, lambda: self.predict_dropped(paths))

    def predict_dropped(self, paths: list[str]) -> bool:
        """A drop: predict it, asking first when a folder holds many images."""
        from gui.data.drop_choice import MANY_TO_PREDICT, ask_predict_many, has_folder

        if self.project is not None and has_folder(paths):
            n = len(expand_paths(paths))
            if n > MANY_TO_PREDICT and not ask_predict_many(self, paths, n):
                self.status.setText("Nothing predicted.")
                return False
        return self.predict_paths(paths)

    def _choose(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(
            self,
            "Choose images",
            "",
            "Images (*.jpg *.jpeg *.png *.bmp *.gif *.tif *.tiff *.webp);;All files (*)",
        )
        if paths:
            self.predict_paths(paths)

    def predict_paths(self, paths: list[str]) -> bool:
        """Predict dropped / chosen files (folders are searched for images)."""
        if self.project is None:
            self.status.setText("Open a project with a trained model first.")
            return False
        files = expand_paths(paths)
        if not files:
            self.status.setText("None of those are image files (jpg, png, bmp, tif, webp, …).")
            return False
        if self.bridge.busy:
            self.status.setText(
                f"Busy with “{self.bridge.job_name}”: predict again when it has finished."
            )
            return False
        self.status.setText(f"Predicting {len(files)} image(s)…")
        return self.bridge.submit(
            JobName.PREDICT,
            predict_files_job,
            str(self.project.path),
            files,
            self.cache,
            self.project,
        )

    def _choose_folder(self) -> None:
        if self.project is None or self.bridge.busy:
            return
        folder = QFileDialog.getExistingDirectory(self, "Folder of images to predict")
        if not folder:
            return
        csv_path, _ = QFileDialog.getSaveFileName(
            self, "Save predictions as", str(Path(folder) / "predictions.csv"), "CSV (*.csv)"
        )
        if csv_path:
            self.predict_folder(folder, csv_path)

    def predict_folder(self, folder: str, csv_path: str) -> bool:
        """Predict every image under `folder` into `csv_path` (masks beside it)."""
        if self.project is None or self.bridge.busy:
            return False
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.status.setText(f"Predicting the images in {folder}…")
        colors = self._colors(self.project.class_names())
        return self.bridge.submit(
            JobName.PREDICT_FOLDER,
            predict_folder_job,
            str(self.project.path),
            folder,
            csv_path,
            self.cache,
            colors,
        )

    # ------------------------------------------------------------------ bridge
    @Slot(list)
    def _on_events(self, events: list) -> None:
        for e in events:
            if isinstance(e, Progress):
                self.progress.setVisible(True)
                self.progress.setRange(0, max(1, e.total))
                self.progress.setValue(e.done)
                if e.text:
                    self.status.setText(e.text)

    @Slot(object)
    def _on_predicted(self, result) -> None:
        self.progress.setVisible(False)
        first = None
        bad = [f"{Path(p).name}: {err}" for p, _pred, err, _t in result if err]
        for path, pred, err, truth in result:
            self.results[path] = (pred, err, truth)
            text = Path(path).name + (f" — {pred.label}" if pred and pred.label else "")
            item = QListWidgetItem(text if not err else f"{Path(path).name} — cannot read")
            item.setData(PATH_ROLE, path)
            item.setToolTip(err or path)
            self.list.insertItem(0, item)
            first = first or item
        self.status.setText(
            f"{len(result) - len(bad)} image(s) predicted."
            + (f" Skipped: {'; '.join(bad)}" if bad else "")
        )
        if first is not None:
            self.list.setCurrentItem(self.list.item(0))

    @Slot(object)
    def _on_folder_predicted(self, result) -> None:
        self.progress.setVisible(False)
        n, skipped, csv_path = result
        extra = f" {len(skipped)} file(s) skipped (listed in the CSV)." if skipped else ""
        self.status.setText(f"{n} image(s) predicted, saved to {csv_path}.{extra}")

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        from gui.common.model_in_use import model_key

        self.progress.setVisible(False)
        offer = ""
        if self.project is not None and model_key(self.project) is None:
            offer = ' <a href="train">Train a model first</a>.'  # the failure is: no model
        self.status.setText(f"<span style='color:#b00020'>{html.escape(message)}</span>{offer}")

    @Slot()
    def _on_cancelled(self) -> None:
        self.progress.setVisible(False)
        self.status.setText("Prediction stopped.")

    # ------------------------------------------------------------------ showing a result
    @Slot(QListWidgetItem, QListWidgetItem)
    def _current_changed(self, item, _previous=None) -> None:
        if item is not None:
            self.show_result(item.data(PATH_ROLE))

    def _clear_result(self) -> None:
        self._image = None
        self._current = None
        self.view.set_array(None)
        self.truth.set_array(None)
        self.headline.clear()
        self._set_bars([])
        self._show_seg_controls(False)
        self.heatmap.reset()

    def show_result(self, path: str) -> None:
        from engine.imaging import BadImage, load_rgb

        pred, err, truth = self.results.get(path, (None, "unknown file", None))
        self._clear_result()
        self._current = path
        if err or pred is None:
            self.headline.setText(f"<span style='color:#b00020'>{err}</span>")
            return
        try:
            self._image = np.asarray(load_rgb(path))
        except BadImage as e:
            self.headline.setText(str(e))
            return
        self._truth_mask = truth
        if pred.task == "segmentation":
            names = list(pred.class_fractions) or self.project.class_names()
            self._seg_names = names
            hidden = {i for i, n in enumerate(names) if n == "background"}
            self.legend.set_classes(names, self._colors(names), hidden)
            self._show_seg_controls(True)
            top = sorted(pred.class_fractions.items(), key=lambda kv: -kv[1])
            self.headline.setText("<b>Share of the image per class</b>")
            self._set_bars(top, colors=dict(zip(names, self._colors(names), strict=False)))
            self._redraw()
            return
        self.view.set_array(self._image)
        if pred.task == "regression":
            names = self.project.targets if self.project else []
            parts = [f"{n} = <b>{v:.3g}</b>" for n, v in zip(names, pred.values, strict=False)]
            self.headline.setText("<br>".join(parts) or ", ".join(f"{v:.3g}" for v in pred.values))
            return
        probs = sorted(pred.probs.items(), key=lambda kv: -kv[1])
        if pred.task == "multilabel":
            found = ", ".join(pred.labels) if pred.labels else "none above the threshold"
            self.headline.setText(f"Labels: <b>{found}</b>")
            self._set_bars(probs, highlight=set(pred.labels))
        else:
            self.headline.setText(f"<b>{pred.label}</b> — {pred.probs.get(pred.label, 0):.0%}")
            self._set_bars(probs[:5], highlight={pred.label})
        chosen = pred.labels if pred.task == "multilabel" else [pred.label]
        self.heatmap.show_for(path, self._image, pred.task, list(pred.probs), chosen)

    def _set_bars(
        self,
        rows: list[tuple[str, float]],
        highlight: set | frozenset = frozenset(),
        colors: dict[str, str] | None = None,
    ) -> None:
        """One labelled probability (or share) bar per row; highlighted or class-coloured."""
        while self.bars.count():
            w = self.bars.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        self.bar_values: dict[str, int] = {}
        for r, (name, p) in enumerate(rows):
            bar = QProgressBar()
            bar.setRange(0, 1000)
            bar.setValue(int(round(p * 1000)))
            bar.setFormat(f"{p:.1%}")
            bar.setMaximumHeight(18)
            color = (colors or {}).get(name) or ("#2e7d32" if name in highlight else None)
            if color:
                bar.setStyleSheet(f"QProgressBar::chunk{{background:{color};}}")
            self.bars.addWidget(QLabel(name), r, 0)
            self.bars.addWidget(bar, r, 1)
            self.bar_values[name] = bar.value()

    def _show_seg_controls(self, on: bool) -> None:
        for w in (self.opacity, self.opacity_label, self.legend):
            w.setVisible(on)
        if not on:
            self.truth.setVisible(False)
            self.truth_title.setVisible(False)

    @Slot()
    def _redraw(self, *_args) -> None:
        """Repaint the segmentation overlay (opacity or legend changed)."""
        pred = self.results.get(self._current, (None,))[0] if self._current else None
        if pred is None or pred.mask is None or self._image is None:
            return
        colors = self._colors(self._seg_names)
        hidden = self.legend.hidden()
        alpha = self.opacity.value() / 100
        self.view.set_array(blend(self._image, pred.mask, colors, alpha, hidden))
        has_truth = self._truth_mask is not None
        self.truth.setVisible(has_truth)
        self.truth_title.setVisible(has_truth)
        if has_truth:
            self.truth.set_array(blend(self._image, self._truth_mask, colors, alpha, hidden))

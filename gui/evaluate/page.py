"""The Evaluate page: where the trained model is right and wrong on the validation images.

Reads `engine.training.evaluation.load_evaluation(project)` (plain json + numpy, no torch). The list
shows every validation image with its label and the prediction, top losses first; the right side
holds the task's view: the selected image with its Grad-CAM heatmap (gui.evaluate.heatmap_view),
confusion matrix (click a cell to see those images) and per-class accuracy, per-label F1,
predicted-vs-actual scatter, or per-class IoU with mask overlays.
Keys 1-9 relabel the selected image through the app's undo history (gui.state), so Ctrl+Z
undoes it as it undoes a label set on the Data page.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from engine.interpret.gradcam import CAM_TASKS
from gui.common.help_texts import help_button, tip
from gui.common.overlay import ScaledImage, blend
from gui.common.project_page import ProjectPage
from gui.evaluate import tables
from gui.evaluate.heatmap_view import EvalHeatmapView
from gui.evaluate.tables import ConfusionMatrix, fill_table, fmt, make_table
from gui.state import AppState

ID_ROLE = Qt.ItemDataRole.UserRole + 1


class EvaluatePage(ProjectPage, QWidget):
    title = "Evaluate"

    def __init__(self, bridge, state: AppState | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.bridge = bridge
        self._use_state(state)
        self.evaluation = None
        self._cell: tuple[str, str] | None = None
        self._scatter = None
        self._rows: dict[int, int] = {}  # image id -> row in the list
        self._records: dict[int, object] = {}

        self.summary = QLabel("Train a model to see how it does on the validation images.")
        self.summary.setWordWrap(True)
        self.summary.linkActivated.connect(lambda _href: self.state.show_page.emit("Train"))
        from gui.common.verdict_view import VerdictView

        self.verdict = VerdictView()  # how good the model in use is, against the baseline
        self.wrong_only = QCheckBox("Wrong only")
        self.wrong_only.toggled.connect(self._refilter)
        self.show_all = QPushButton("Show all")
        self.show_all.setVisible(False)
        self.show_all.clicked.connect(self._clear_cell)
        self.filter_label = QLabel()
        self.items = make_table(["image", "label", "prediction", "loss"])
        self.items.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.items.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.items.setIconSize(QPixmap(56, 56).size())
        self.items.verticalHeader().setDefaultSectionSize(60)
        header = self.items.horizontalHeader()
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.items.setToolTip(tip("top_losses") + "<br>Keys 1-9 set the label of the image.")
        self.items.itemSelectionChanged.connect(self._selected)
        self.items.installEventFilter(self)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        title = QLabel("<b>Validation images, most wrong first</b>")
        bar.addWidget(title)
        bar.addWidget(help_button("top_losses", self))
        bar.addStretch(1)
        bar.addWidget(self.filter_label)
        bar.addWidget(self.show_all)
        bar.addWidget(self.wrong_only)
        ll.addLayout(bar)
        ll.addWidget(self.items)

        self.confusion = ConfusionMatrix()
        self.confusion.cellClicked.connect(self._cell_clicked)
        self.per_class = make_table([])
        self.detail_title = QLabel()
        self.pred_view = ScaledImage("prediction")
        self.truth_view = ScaledImage("ground truth")
        views = QWidget()
        vl = QHBoxLayout(views)
        vl.setContentsMargins(0, 0, 0, 0)
        vl.addWidget(self.pred_view)
        vl.addWidget(self.truth_view)
        self.views = views
        self.right = QVBoxLayout()
        rw = QWidget()
        rw.setLayout(self.right)
        self.right.setContentsMargins(0, 0, 0, 0)
        self.right_title = QLabel()
        head = QHBoxLayout()
        head.addWidget(self.right_title)
        self.right_help = QHBoxLayout()
        head.addLayout(self.right_help)
        head.addStretch(1)
        self.inspect = EvalHeatmapView(bridge, lambda: self.project)  # image + where it looks
        self.right.addWidget(self.inspect, 3)
        self.right.addLayout(head)
        self.right.addWidget(self.confusion, 3)
        self.right.addWidget(self.views, 3)
        self.right.addWidget(self.detail_title)
        self.right.addWidget(self.per_class, 2)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(rw)
        split.setSizes([520, 560])
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addWidget(self.verdict)
        lay.addWidget(split, 1)

        from gui.data.thumb_loader import ThumbLoader

        self.thumbs = ThumbLoader(self, size=64)
        self.thumbs.ready.connect(self._thumb_ready)
        self._show_task(None)
        self._follow_project()

    # ------------------------------------------------------------------ project / loading
    @Slot(object)
    def _show_project(self, project) -> None:
        """Show `project`'s latest evaluation, with no filter left from the last project."""
        self.thumbs.set_project(project)
        self.wrong_only.blockSignals(True)
        self.wrong_only.setChecked(False)
        self.wrong_only.blockSignals(False)
        self.reload()

    def shutdown(self) -> None:
        """Stop the thumbnail threads (the window calls this on close)."""
        self.thumbs.shutdown()

    @Slot()
    @Slot(object)
    def reload(self, *_args) -> None:
        """Read the project's latest evaluation (after a training run or on opening)."""
        from engine.training.evaluation import load_evaluation

        self.evaluation = load_evaluation(self.project) if self.project is not None else None
        self._cell = None
        self.confusion.clearSelection()
        self.confusion.setCurrentItem(None)
        self.show_all.setVisible(False)
        self.filter_label.clear()
        ev = self.evaluation
        self._records = {}
        self._clear_views()  # nothing of the last project's (or model's) image stays
        self.verdict.show_verdict(None)
        if ev is None:
            self.summary.setText(
                'No results yet. Train a model on the <a href="train">Train page</a>: its '
                "results on the validation images appear here."
            )
            self._show_task(None)
            self.items.setRowCount(0)
            return
        if self.project is not None:
            ids = [it.image_id for it in ev.items]
            self._records = {r.id: r for r in self.project.images(ids)}
        metrics = ", ".join(f"{k} {fmt(v)}" for k, v in ev.metrics.items() if "/" not in k)
        keys = ev.task in ("classification", "multilabel")  # number keys relabel; not masks
        hint = " Fix a wrong label: select the image and press its class number (1-9)."
        source = f" Model in use: run {ev.run_id}." if ev.run_id else " Model in use."
        self.summary.setText(
            f"<b>{len(ev.items)} validation images.</b> {metrics}.{source}" + (hint if keys else "")
        )
        keys_tip = tip("top_losses") + "<br>Keys 1-9 set the label of the image."
        self.items.setToolTip(keys_tip if keys else tip("top_losses_plain"))
        self.summary.setToolTip(tip("validation"))
        if self.project is not None:
            from engine.training.verdict import for_evaluation

            self.verdict.show_verdict(for_evaluation(self.project, ev))
        self._show_task(ev)
        self._refilter()

    def _show_task(self, ev) -> None:
        task = ev.task if ev else None
        self.confusion.setVisible(task == "classification")
        self.views.setVisible(task == "segmentation")
        self.wrong_only.setVisible(task in ("classification", "multilabel"))
        self.inspect.setVisible(task in CAM_TASKS)
        while self.right_help.count():
            w = self.right_help.takeAt(0).widget()
            if w is not None:
                w.deleteLater()
        if self._scatter is not None:
            self._scatter.setVisible(task == "regression")
        if ev is None:
            self.right_title.setText("")
            fill_table(self.per_class, [])
            self.per_class.setColumnCount(0)
            return
        names = ev.class_names
        pc = ev.per_class
        if task == "classification":
            self.right_title.setText("<b>Confusion matrix</b> (rows: true class, columns: guess)")
            self.right_help.addWidget(help_button("confusion", self))
            if ev.confusion is not None:
                self.confusion.set_matrix(names, ev.confusion)
            cols = ["class", "images", "precision", "recall", "F1"]
            keys = ["n", "precision", "recall", "f1"]
            if ev.confusion is not None:  # figures from the matrix: older evaluations too
                from engine.training.class_scores import class_scores

                pc = class_scores(ev.confusion, names)
        elif task == "multilabel":
            self.right_title.setText("<b>Per-label scores</b>")
            self.right_help.addWidget(help_button("f1", self))
            cols, keys = (
                ["label", "images", "precision", "recall", "F1"],
                ["n", "precision", "recall", "f1"],
            )
        elif task == "regression":
            self.right_title.setText("<b>Predicted against actual</b> (perfect: on the line)")
            self._show_scatter(ev)
            cols, keys = ["target", "mean abs. error", "RMSE"], ["mae", "rmse"]
        else:
            self.right_title.setText("<b>Prediction</b> (left) and ground truth (right)")
            self.right_help.addWidget(help_button("iou", self))
            cols, keys = ["class", "pixels", "IoU"], ["pixels", "iou"]
        self.per_class.setColumnCount(len(cols))
        self.per_class.setHorizontalHeaderLabels(cols)
        fill_table(self.per_class, [[n, *[fmt(pc.get(n, {}).get(k)) for k in keys]] for n in pc])

    def _show_scatter(self, ev) -> None:
        if self._scatter is None:
            self._scatter, self._scatter_points, self._scatter_line = tables.scatter_plot()
            self.right.insertWidget(2, self._scatter, 3)
        tables.fill_scatter(self._scatter_points, self._scatter_line, ev.items)
        self._scatter.setVisible(True)

    # ------------------------------------------------------------------ list
    def visible_items(self) -> list:
        """Evaluation items passing the filters, top losses first."""
        ev = self.evaluation
        if ev is None:
            return []
        out = ev.most_wrong()
        if self.wrong_only.isChecked() and ev.task in ("classification", "multilabel"):
            out = [it for it in out if it.correct is False]
        if self._cell is not None:
            t, p = self._cell
            out = [it for it in out if it.target == t and it.prediction == p]
        return out

    def _clear_views(self) -> None:
        self.inspect.clear()
        self.pred_view.set_array(None)
        self.truth_view.set_array(None)
        self.detail_title.clear()

    @Slot()
    def _refilter(self, *_args) -> None:
        shown = self.visible_items()
        self.items.blockSignals(True)
        self.items.clearSelection()  # the preview follows the new first row, never a stale one
        self.items.blockSignals(False)
        self.items.setRowCount(len(shown))
        self._rows = {}
        for row, it in enumerate(shown):
            name = QTableWidgetItem(it.name)
            name.setData(ID_ROLE, it.image_id)
            rec = self._records.get(it.image_id)
            target = it.target
            if rec is not None and self.evaluation.task in ("classification", "multilabel"):
                target = (
                    list(rec.labels)
                    if self.evaluation.task == "multilabel"
                    else (rec.labels[0] if rec.labels else "—")
                )
            pred = (
                it.prediction
                if it.prediction is not None
                else (f"pixel accuracy {it.score:.2f}" if it.score is not None else "")
            )
            if self.evaluation.task == "segmentation" and target:
                target = Path(str(target)).name  # the mask's file name, not its full path
            cells = [
                name,
                QTableWidgetItem(fmt(target)),
                QTableWidgetItem(fmt(pred)),
                QTableWidgetItem(f"{it.loss:.3f}"),
            ]
            if it.correct is False:
                cells[2].setForeground(QBrush(QColor("#c62828")))
            for col, cell in enumerate(cells):
                self.items.setItem(row, col, cell)
            self._rows[it.image_id] = row
            if rec is not None:
                self.thumbs.request(rec)
        if shown:
            self.items.blockSignals(True)
            self.items.selectRow(0)
            self.items.blockSignals(False)
        self._selected()  # also when the selection did not change (same row, new image)

    @Slot(int, QImage)
    def _thumb_ready(self, image_id: int, image: QImage) -> None:
        row = self._rows.get(image_id)
        item = self.items.item(row, 0) if row is not None else None
        if item is not None:
            item.setIcon(QIcon(QPixmap.fromImage(image)))

    @Slot(int, int)
    def _cell_clicked(self, row: int, col: int) -> None:
        names = self.evaluation.class_names if self.evaluation else []
        if row < len(names) and col < len(names):
            self._cell = (names[row], names[col])
            self.filter_label.setText(f"true “{names[row]}”, predicted “{names[col]}”")
            self.show_all.setVisible(True)
            self._refilter()

    def _clear_cell(self) -> None:
        self._cell = None
        self.filter_label.clear()
        self.show_all.setVisible(False)
        self.confusion.clearSelection()
        self._refilter()

    def selected_id(self) -> int | None:
        rows = self.items.selectionModel().selectedRows() if self.items.selectionModel() else []
        if not rows:
            return None
        return self.items.item(rows[0].row(), 0).data(ID_ROLE)

    @Slot()
    def _selected(self) -> None:
        ev, iid = self.evaluation, self.selected_id()
        if ev is None or iid is None or self.project is None:
            self._clear_views()
        elif ev.task in CAM_TASKS:
            item = next(it for it in ev.items if it.image_id == iid)
            self.inspect.show_item(ev, item, self._records.get(iid))
        elif ev.task == "segmentation":
            self.show_masks(iid)

    def show_masks(self, image_id: int) -> None:
        """Predicted mask over the image (left) beside the ground truth (right)."""
        from engine.imaging import BadImage, load_mask, load_rgb

        rec = self._records.get(image_id)
        pred = self.evaluation.masks().get(image_id)
        if rec is None or pred is None:
            return
        classes = self.project.classes()
        colors = [c.color for c in classes]
        hidden = {i for i, c in enumerate(classes) if c.name == "background"}
        try:
            image = np.asarray(load_rgb(self.project.abspath(rec.file)))
        except BadImage as e:
            self.detail_title.setText(str(e))
            return
        self.pred_view.set_array(blend(image, pred, colors, 0.7, hidden))
        truth = None
        if rec.mask:
            try:
                truth = load_mask(self.project.abspath(rec.mask))
            except (BadImage, OSError, ValueError):
                truth = None
        self.truth_view.set_array(
            blend(image, truth, colors, 0.7, hidden) if truth is not None else image
        )
        self.detail_title.setText(f"{rec.name}: per-class IoU over all validation images below")

    # ------------------------------------------------------------------ relabelling
    def relabel(self, number: int) -> bool:
        """Key 1-9: give the selected image class `number` (toggle for multi-label)."""
        ev, iid = self.evaluation, self.selected_id()
        if ev is None or iid is None or ev.task not in ("classification", "multilabel"):
            return False
        names = self.project.class_names()
        if not 1 <= number <= len(names):
            return False
        if why := self.state.refuse_change():
            self.state.message.emit(why)
            return False
        name = names[number - 1]
        rec = self.project.image(iid)
        if ev.task == "classification":
            self.state.edit(lambda h: h.set_labels([iid], [name]))
        else:
            self.state.edit(lambda h: h.toggle_label([iid], name, name not in rec.labels))
        self._records[iid] = self.project.image(iid)
        row = self._rows.get(iid)
        if row is not None:
            new = self._records[iid].labels
            text = fmt(list(new) if ev.task == "multilabel" else (new[0] if new else "—"))
            self.items.item(row, 1).setText(text)
        self._selected()  # the image's caption shows the new label
        return True

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        from PySide6.QtCore import QEvent

        if obj is self.items and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
                if self.relabel(key - Qt.Key.Key_0):
                    return True
        return super().eventFilter(obj, event)

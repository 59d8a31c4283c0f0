"""The image viewer: one image large, with zoom (wheel, fit, 100 %), pan (drag), and the
segmentation mask drawn over it as a semi-transparent overlay in the class colours."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.common.overlay import IGNORE_INDEX, mask_to_rgba, to_qimage

BACKGROUND_NAMES = {"background", "_background_", "bg"}


class ZoomView(QGraphicsView):
    """A QGraphicsView that zooms with the wheel around the cursor and pans by dragging."""

    zoom_changed = Signal(float)
    step = Signal(int)  # Left / Right arrow: previous / next image

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(QColor("#1f2329"))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.fit_mode = True

    @property
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, z: float) -> None:
        z = max(0.02, min(40.0, z))
        self.fit_mode = False
        self.setTransform(self.transform().fromScale(z, z))
        self.zoom_changed.emit(z)

    def fit(self) -> None:
        self.fit_mode = True
        rect = self.sceneRect()
        if not rect.isEmpty():
            self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.zoom_changed.emit(self.zoom)

    def wheelEvent(self, e) -> None:
        steps = e.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * (1.25**steps))
        e.accept()

    def resizeEvent(self, e) -> None:
        super().resizeEvent(e)
        if self.fit_mode:
            self.fit()

    def keyPressEvent(self, e) -> None:
        if e.key() in (Qt.Key.Key_Left, Qt.Key.Key_Right) and not e.modifiers():
            self.step.emit(-1 if e.key() == Qt.Key.Key_Left else 1)
        else:
            super().keyPressEvent(e)


class ImageViewer(QWidget):
    """Shows one ImageRecord: image, optional mask overlay (opacity slider) and its legend."""

    closed = Signal()
    step = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.project = None
        self.record = None
        self.mask: np.ndarray | None = None
        self._image: QImage | None = None
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: 600;")
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        head.addWidget(self.title, 1)
        self.zoom_label = QLabel()
        self.zoom_label.setStyleSheet("color: #5f6b7a;")
        head.addWidget(self.zoom_label)
        for text, tip, slot in (
            ("Fit", "Fit the image in the panel", self.fit),
            ("100%", "Actual pixels", self.actual_size),
            ("✕", "Close the viewer (Esc)", self.close_viewer),
        ):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            head.addWidget(b)
        lay.addLayout(head)
        self.info = QLabel()
        self.info.setStyleSheet("color: #5f6b7a;")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.scene = QGraphicsScene(self)
        self.image_item = QGraphicsPixmapItem()
        self.image_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.overlay_item = QGraphicsPixmapItem()  # nearest-neighbour: crisp class edges
        self.scene.addItem(self.image_item)
        self.scene.addItem(self.overlay_item)
        self.view = ZoomView(self)
        self.view.setScene(self.scene)
        self.view.zoom_changed.connect(lambda z: self.zoom_label.setText(f"{z * 100:.0f} %"))
        self.view.step.connect(self.step)
        lay.addWidget(self.view, 1)
        orow = QHBoxLayout()
        self.opacity_label = QLabel("Mask opacity")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(50)
        self.opacity.valueChanged.connect(lambda v: self.overlay_item.setOpacity(v / 100))
        orow.addWidget(self.opacity_label)
        orow.addWidget(self.opacity, 1)
        lay.addLayout(orow)
        self.legend = QLabel()
        self.legend.setWordWrap(True)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        lay.addWidget(self.legend)
        self.overlay_item.setOpacity(0.5)
        self._show_mask_controls(False)

    # ------------------------------------------------------------------ content
    def set_project(self, project) -> None:
        self.project = project
        self.clear()

    def clear(self) -> None:
        self.record, self.mask, self._image = None, None, None
        self.image_item.setPixmap(QPixmap())
        self.overlay_item.setPixmap(QPixmap())
        self.title.setText("")
        self.info.setText("")
        self._show_mask_controls(False)

    def show_record(self, record) -> None:
        """Load and show `record`'s image (and mask); an unreadable file shows why."""
        from engine.imaging import BadImage, load_mask, load_rgb

        self.record = record
        self.title.setText(record.name)
        self.mask = None
        self.overlay_item.setPixmap(QPixmap())
        try:
            rgb = np.asarray(load_rgb(self.project.abspath(record.file)))
            self._image = to_qimage(rgb)
        except BadImage as e:
            self._image = None
            self.image_item.setPixmap(QPixmap())
            self.info.setText(
                f"<span style='color:#b42318'>Cannot read this image: {e.reason}</span>"
            )
            self._show_mask_controls(False)
            return
        self.image_item.setPixmap(QPixmap.fromImage(self._image))
        self.scene.setSceneRect(QRectF(0, 0, self._image.width(), self._image.height()))
        problem = ""
        if record.mask:
            try:
                self.mask = load_mask(self.project.abspath(record.mask))
            except BadImage as e:
                problem = f" · mask unreadable: {e.reason}"
        self.info.setText(self._describe(record) + problem)
        self.refresh_overlay()
        self.fit()

    def refresh_overlay(self) -> None:
        """Recolour the overlay (after a class recolour) and rebuild the legend."""
        has = self.mask is not None and self._image is not None
        self._show_mask_controls(has)
        if not has:
            self.overlay_item.setPixmap(QPixmap())
            return
        classes = self.project.classes()
        # A class called "background" would tint the whole image; it is left clear.
        drawn = [c for c in classes if c.name.strip().lower() not in BACKGROUND_NAMES]
        # full strength here: the opacity slider sets the overlay item's opacity instead
        rgba = mask_to_rgba(self.mask, {c.position: c.color for c in drawn}, opacity=1.0)
        self.overlay_item.setPixmap(QPixmap.fromImage(to_qimage(rgba)))
        mh, mw = self.mask.shape
        sx, sy = self._image.width() / mw, self._image.height() / mh
        self.overlay_item.setTransform(self.overlay_item.transform().fromScale(sx, sy))
        present = set(np.unique(self.mask).tolist()) - {IGNORE_INDEX}
        chips = [
            f"<span style='color:{c.color}'>■</span>&nbsp;{c.name}"
            if c in drawn
            else f"<span style='color:#9aa3ad'>□</span>&nbsp;{c.name} (not tinted)"
            for c in classes
            if c.position in present
        ]
        unknown = sorted(present - {c.position for c in classes})
        if unknown:
            chips.append("values without a class: " + ", ".join(map(str, unknown)))
        self.legend.setText("&nbsp;&nbsp; ".join(chips) or "The mask has no labelled pixels.")

    def _describe(self, rec) -> str:
        parts = [f"{rec.width} × {rec.height} px", rec.split]
        if rec.values is not None:
            parts.append("value " + ", ".join(f"{v:g}" for v in rec.values))
        elif rec.labels:
            parts.append(", ".join(rec.labels))
        elif not rec.mask:
            parts.append("unlabeled")
        return " · ".join(parts)

    def _show_mask_controls(self, on: bool) -> None:
        for w in (self.opacity_label, self.opacity, self.legend):
            w.setVisible(on)

    # ------------------------------------------------------------------ zoom / close
    def fit(self) -> None:
        self.view.fit()

    def actual_size(self) -> None:
        self.view.set_zoom(1.0)

    def set_opacity(self, fraction: float) -> None:
        self.opacity.setValue(round(fraction * 100))

    def close_viewer(self) -> None:
        self.hide()
        self.closed.emit()

    def keyPressEvent(self, e) -> None:
        if e.key() == Qt.Key.Key_Escape:
            self.close_viewer()
        else:
            super().keyPressEvent(e)

    def rendered_image(self) -> QImage:
        """What the canvas shows right now (for tests and screenshots)."""
        return self.view.viewport().grab().toImage()

"""The image viewer: one image large, with zoom (wheel, fit, 100 %), pan (drag), and the
segmentation mask drawn over it as a semi-transparent overlay in the class colours. In a
segmentation project the mask editor (gui.paint.editor) paints on that overlay."""

from __future__ import annotations

import contextlib
import os

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

from engine.project.masks import present_values
from gui.common.overlay import to_qimage
from gui.common.wrap_label import breakable
from gui.paint.canvas import MaskLayer, bgra_lut

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
        self.rgb: np.ndarray | None = None  # the shown image's pixels (HxWx3)
        self.mask_problem = ""  # why the shown mask cannot be painted on ("" if it can)
        self._mask_stamp = None  # (path, mtime, size) of the mask file shown
        self._saving = False  # the editor is saving: its own change event needs no reload
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 8, 8)
        lay.setSpacing(6)
        head = QHBoxLayout()
        self.title = QLabel()  # a long file name wraps instead of being cut
        self.title.setWordWrap(True)
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
        self.overlay_item = MaskLayer()  # nearest-neighbour: crisp class edges
        self.scene.addItem(self.image_item)
        self.scene.addItem(self.overlay_item)
        self.view = ZoomView(self)
        self.view.setScene(self.scene)
        self.view.zoom_changed.connect(self._on_zoom)
        self.view.step.connect(self.step)
        from gui.paint.editor import MaskEditor

        self.editor = MaskEditor(self)
        lay.addWidget(self.editor)
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
        self.editor.hide()

    # ------------------------------------------------------------------ content
    def set_project(self, project) -> None:
        self.project = project
        self.clear()
        self.editor.set_project(project)

    def clear(self) -> None:
        self.record, self.mask, self._image, self.rgb = None, None, None, None
        self._mask_stamp, self.mask_problem = None, ""
        self.image_item.setPixmap(QPixmap())
        self.overlay_item.set_mask(None)
        self.title.setText("")
        self.info.setText("")
        self._show_mask_controls(False)

    @contextlib.contextmanager
    def saving(self):
        """While the editor saves the mask it shows, its change event reloads nothing."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False
            self._mask_stamp = self._stamp(self.record)

    def _stamp(self, record):
        if record is None or not record.mask:
            return None
        try:
            st = os.stat(self.project.abspath(record.mask))
        except OSError:
            return None
        return record.mask, st.st_mtime_ns, st.st_size

    def show_record(self, record) -> None:
        """Load and show `record`'s image (and mask); an unreadable file shows why. The same
        image again (a change event) keeps the zoom and reloads the mask only if it changed."""
        from engine.imaging import BadImage, load_rgb

        same = self.record is not None and self.record.id == record.id and self._image is not None
        self.record = record
        if same:
            if not self._saving and self._stamp(record) != self._mask_stamp:
                self._load_mask(record)
            elif self._saving and not record.mask:
                self.mask = None  # the editor erased everything: the mask was taken away
            self.info.setText(self._describe(record) + self.mask_problem_text())
            self.refresh_overlay()
            return
        self.title.setText(breakable(record.name))
        self.mask = None
        self.overlay_item.set_mask(None)
        try:
            rgb = np.asarray(load_rgb(self.project.abspath(record.file)))
            self._image = to_qimage(rgb)
            self.rgb = rgb  # the pixels, for the editor's fill on an unlabeled area
        except BadImage as e:
            self._image = None
            self.rgb = None
            self.image_item.setPixmap(QPixmap())
            self.info.setText(
                f"<span style='color:#b42318'>Cannot read this image: {e.reason}</span>"
            )
            self.mask_problem = f"the image cannot be read ({e.reason})"
            self._show_mask_controls(False)
            self.editor.record_shown()
            return
        self.image_item.setPixmap(QPixmap.fromImage(self._image))
        self.scene.setSceneRect(QRectF(0, 0, self._image.width(), self._image.height()))
        self._load_mask(record)
        self.info.setText(self._describe(record) + self.mask_problem_text())
        self.refresh_overlay()
        self.fit()
        self.editor.record_shown()

    def _load_mask(self, record) -> None:
        """Read `record`'s mask file (if any) and say why it cannot be painted on, if so."""
        from engine.imaging import BadImage, load_mask

        self.mask, self.mask_problem = None, ""
        self._mask_stamp = self._stamp(record)
        if not record.mask:
            return
        try:
            self.mask = load_mask(self.project.abspath(record.mask))
        except BadImage as e:
            self.mask_problem = f"mask unreadable: {e.reason}"
            return
        h, w = self.mask.shape
        if (w, h) != (self._image.width(), self._image.height()):
            self.mask_problem = (
                f"the mask is {w} × {h} px but the image is {self._image.width()} × "
                f"{self._image.height()} px"
            )
            return
        n = len(self.project.classes())
        _, extra = present_values(self.mask, n)
        if extra:
            self.mask_problem = f"mask value {extra[-1]} has no class (classes 0-{n - 1})"

    def mask_problem_text(self) -> str:
        return f" · {self.mask_problem}" if self.mask_problem else ""

    def refresh_overlay(self) -> None:
        """Recolour the overlay (after a class recolour) and rebuild the legend."""
        has = self.mask is not None and self._image is not None
        self._show_mask_controls(has)
        if self.editor.painting:
            self._show_mask_controls(True)
        if not has:
            self.overlay_item.set_mask(None)
            return
        classes = self.project.classes()
        # A class called "background" would tint the whole image; it is left clear (except
        # while painting, where background and ignore must look different).
        drawn = [
            c
            for c in classes
            if self.editor.painting or c.name.strip().lower() not in BACKGROUND_NAMES
        ]
        # full strength here: the opacity slider sets the overlay item's opacity instead
        lut = bgra_lut({c.position: c.color for c in drawn})
        if self.overlay_item.mask is not self.mask:
            self.overlay_item.set_mask(self.mask, lut)
        elif not np.array_equal(lut, self.overlay_item.lut):
            self.overlay_item.set_lut(lut)
        mh, mw = self.mask.shape
        sx, sy = self._image.width() / mw, self._image.height() / mh
        self.overlay_item.setTransform(self.overlay_item.transform().fromScale(sx, sy))
        known, unknown_values = present_values(self.mask, len(classes))
        present = set(known) | set(unknown_values)
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
            seg = self.project is not None and self.project.task == "segmentation"
            parts.append("no mask yet" if seg else "unlabeled")
        return " · ".join(parts)

    def _show_mask_controls(self, on: bool) -> None:
        for w in (self.opacity_label, self.opacity, self.legend):
            w.setVisible(on)

    # ------------------------------------------------------------------ zoom / close
    def _on_zoom(self, z: float) -> None:
        """Show the zoom; from 200 % on, image pixels are drawn as squares like the mask's."""
        self.zoom_label.setText(f"{z * 100:.0f} %")
        mode = Qt.TransformationMode
        self.image_item.setTransformationMode(
            mode.FastTransformation if z >= 2 else mode.SmoothTransformation
        )

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

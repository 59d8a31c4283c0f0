"""The image viewer: mask overlay in class colours, opacity, zoom, unreadable files."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gui.common.overlay import mask_to_rgba, to_qimage
from tests.support.projects import make_labeled_project, make_seg_project


def pixel(img, x: int, y: int) -> tuple[int, int, int]:
    c = img.pixelColor(x, y)
    return c.red(), c.green(), c.blue()


def test_mask_to_qimage_colours_classes_and_leaves_unlabeled_clear():
    mask = np.array([[0, 1], [2, 255]], np.uint8)
    colors = {1: "#ff0000", 2: "#0000ff"}
    img = to_qimage(mask_to_rgba(mask[:, ::-1], colors, opacity=1.0))  # a non-contiguous view too
    del mask  # the QImage owns its pixels
    assert img.pixelColor(1, 0).alpha() == 0  # value 0 has no colour here
    assert img.pixelColor(0, 0).getRgb() == (255, 0, 0, 255)
    assert img.pixelColor(1, 1).getRgb() == (0, 0, 255, 255)
    assert img.pixelColor(0, 1).alpha() == 0  # 255 = unlabeled, never painted


def test_overlay_pixels_carry_the_class_colour(page, qtbot, tmp_path):
    p, mask = make_seg_project(tmp_path / "s", size=40)
    page.set_project(p)
    page.browser.setCurrentIndex(page.model.index(0))
    qtbot.keyClick(page.browser, Qt.Key.Key_Return)  # Enter opens the viewer
    v = page.viewer
    assert v.isVisible() and v.record.name == "scene.png"
    v.actual_size()
    v.set_opacity(1.0)
    img = v.rendered_image()

    # map image pixels to viewport pixels through the view's transform
    def at(x, y):
        pt = v.view.mapFromScene(x + 0.5, y + 0.5)
        return pixel(img, pt.x(), pt.y())

    assert at(5, 20) == (255, 0, 0)  # road: left half, red
    assert at(30, 14) == (0, 0, 255)  # car: the square, blue
    assert at(30, 30) == (128, 128, 128)  # background: not tinted, the grey image shows
    assert at(5, 38) == (128, 128, 128)  # unlabeled stripe: the image shows through
    v.set_opacity(0.5)
    r, g, b = pixel(v.rendered_image(), *v.view.mapFromScene(5.5, 20.5).toTuple())
    assert 180 <= r <= 200 and 55 <= g <= 75 and 55 <= b <= 75  # half red over grey
    assert "road" in v.legend.text() and "car" in v.legend.text()
    assert "#ff0000" in v.legend.text()
    v.set_opacity(0.0)
    assert pixel(v.rendered_image(), *v.view.mapFromScene(5.5, 20.5).toTuple()) == (128, 128, 128)


def test_recolouring_a_class_recolours_the_open_overlay(page, qtbot, tmp_path):
    p, _ = make_seg_project(tmp_path / "s", size=40)
    page.set_project(p)
    page.open_viewer(page.model.index(0))
    v = page.viewer
    v.actual_size()
    v.set_opacity(1.0)
    page.panel.recolor_class("road", "#00ff00")
    assert pixel(v.rendered_image(), *v.view.mapFromScene(5.5, 20.5).toTuple()) == (0, 255, 0)


def test_zoom_fit_and_wheel(page, qtbot, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=2, size=64)
    page.set_project(p)
    page.open_viewer(page.model.index(1))
    v = page.viewer
    assert not v.opacity.isVisible()  # no mask: no overlay controls
    fit = v.view.zoom
    assert fit > 1.5  # a 64 px image is enlarged to fill the panel
    v.actual_size()
    assert v.view.zoom == 1.0 and v.zoom_label.text() == "100 %"
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    centre = QPointF(v.view.viewport().rect().center())
    ev = QWheelEvent(
        centre,
        QPointF(v.view.mapToGlobal(centre.toPoint())),
        QPoint(0, 0),
        QPoint(0, 240),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(v.view.viewport(), ev)
    assert abs(v.view.zoom - 1.5625) < 1e-6  # two wheel notches of 1.25
    v.fit()
    assert abs(v.view.zoom - fit) < 1e-6
    qtbot.keyClick(v.view, Qt.Key.Key_Left)  # previous image
    assert v.record.id == page.model.id_at(0)


def test_unreadable_image_says_why(page, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=1, bad=["broken.jpg"])
    page.set_project(p)
    page.open_viewer(page.model.index(1))
    assert "Cannot read this image" in page.viewer.info.text()
    assert "not an image" in page.viewer.info.text()

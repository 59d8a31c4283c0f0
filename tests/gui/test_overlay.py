"""Mask overlays: class colours land exactly where the mask says, hidden classes vanish."""

from __future__ import annotations

import numpy as np

from gui.common.overlay import ClassLegend, blend, mask_to_rgba, resize_nearest, to_qimage

COLORS = ["#000000", "#ff0000", "#00ff00"]


def test_mask_to_rgba_paints_each_class_and_leaves_unlabeled_clear():
    mask = np.array([[0, 1], [2, 255]], dtype=np.uint8)
    rgba = mask_to_rgba(mask, COLORS, opacity=1.0)
    assert rgba.shape == (2, 2, 4)
    assert tuple(rgba[0, 1]) == (255, 0, 0, 255)
    assert tuple(rgba[1, 0]) == (0, 255, 0, 255)
    assert rgba[1, 1, 3] == 0  # 255 = unlabeled: transparent


def test_blend_mixes_at_opacity_and_hidden_class_keeps_image():
    image = np.full((4, 4, 3), 100, np.uint8)
    mask = np.zeros((4, 4), np.uint8)
    mask[:2] = 1
    out = blend(image, mask, COLORS, opacity=0.5, hidden={0})
    assert tuple(out[0, 0]) == (178, 50, 50)  # half red over grey 100
    assert tuple(out[3, 3]) == (100, 100, 100)  # class 0 hidden: untouched
    hidden = blend(image, mask, COLORS, opacity=0.5, hidden={0, 1})
    assert (hidden == image).all()


def test_blend_resizes_mask_with_nearest_neighbour():
    image = np.zeros((4, 6, 3), np.uint8)
    mask = np.array([[1, 2]], np.uint8)
    out = blend(image, mask, COLORS, opacity=1.0)
    assert tuple(out[0, 0]) == (255, 0, 0) and tuple(out[3, 5]) == (0, 255, 0)
    assert set(np.unique(resize_nearest(mask, 5, 7))) == {1, 2}


def test_qimage_owns_its_pixels():
    arr = np.zeros((3, 5, 3), np.uint8)
    arr[1, 2] = (10, 20, 30)
    img = to_qimage(arr)
    del arr
    assert (img.width(), img.height()) == (5, 3)
    c = img.pixelColor(2, 1)
    assert (c.red(), c.green(), c.blue()) == (10, 20, 30)


def test_legend_toggle_reports_hidden_class(qtbot):
    legend = ClassLegend()
    qtbot.addWidget(legend)
    legend.set_classes(["background", "circle"], COLORS[:2], hidden={0})
    assert legend.hidden() == {0}
    with qtbot.waitSignal(legend.changed, timeout=1000):
        legend.boxes[1].click()
    assert legend.hidden() == {0, 1}

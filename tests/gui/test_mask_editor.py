"""The mask editor, driven with real mouse and key events: strokes, fill, polygon, classes by
key, undo / redo through the app state, bad masks refused, strokes surviving a reopen."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from PySide6.QtTest import QTest

from engine.project.store import Project
from tests.support.projects import make_labeled_project, make_seg_project

L = Qt.MouseButton.LeftButton


@pytest.fixture
def seg(page, tmp_path):
    """A segmentation project of 3 unpainted 48 px images, the first open in the editor at 4x."""
    p = make_labeled_project(
        tmp_path / "seg", "segmentation", n=3, classes=("background", "road", "car"), size=48
    )
    p.recolor_class("road", "#ff0000")
    page.set_project(p)
    page.open_viewer(page.model.index(0))
    v = page.viewer
    v.view.set_zoom(4.0)
    v.view.centerOn(24, 24)
    v.editor.paint_button.click()
    assert v.editor.painting and v.editor.note.isVisible()
    assert "ignore" in v.editor.note.text()
    return p, v


def at(v, x, y):
    return v.view.mapFromScene(QPointF(x, y))


def drag(v, points, button=L):
    vp = v.view.viewport()
    QTest.mousePress(vp, button, Qt.KeyboardModifier.NoModifier, at(v, *points[0]))
    for pt in points[1:]:
        QTest.mouseMove(vp, at(v, *pt))
    QTest.mouseRelease(vp, button, Qt.KeyboardModifier.NoModifier, at(v, *points[-1]))


def click(v, x, y):
    QTest.mouseClick(v.view.viewport(), L, Qt.KeyboardModifier.NoModifier, at(v, x, y))


def saved(p, image_id=None):
    image_id = image_id if image_id is not None else p.query()[0]
    return p.read_mask(image_id)


def test_a_stroke_is_saved_on_release_and_undoes_and_redoes(page, seg, qtbot):
    p, v = seg
    ed = v.editor
    ed.set_size(3)
    drag(v, [(10.5, 20.5), (14.5, 20.5), (20.5, 20.5)])
    m = saved(p)
    assert m is not None and m.shape == (48, 48)
    assert (m[19:22, 10:21] == 1).all()  # 3 px wide line, class 1 (road) picked by default
    assert m[18, 15] == 255 and m[22, 15] == 255  # nothing outside the brush: still ignore
    assert set(np.unique(m)) == {1, 255}
    assert p.image(p.query()[0]).labels == ("road",)
    assert p.query(unlabeled=True) == p.query()[1:]
    # on screen: a painted mask pixel is solid red at 4x, right up to its edge (no smoothing)
    v.set_opacity(1.0)
    qtbot.wait(20)
    img = v.rendered_image()
    for x, y in ((12.5, 20.5), (12.2, 19.2), (12.8, 21.8)):  # within a screen px of the edge
        pt = at(v, x, y)
        assert img.pixelColor(pt.x(), pt.y()).getRgb()[:3] == (255, 0, 0)
    pt = at(v, 12.5, 18.8)  # the ignore pixel just above: the image, untouched by red
    assert img.pixelColor(pt.x(), pt.y()).getRgb()[:3] == (220, 40, 40)
    drag(v, [(30.5, 30.5), (31.5, 30.5)])
    second = saved(p)
    assert second[30, 30] == 1
    page.state.undo()
    assert np.array_equal(saved(p), m) and np.array_equal(v.mask, m)
    page.state.undo()
    assert p.image(p.query()[0]).mask is None and v.mask is None
    page.state.redo()
    page.state.redo()
    assert np.array_equal(saved(p), second) and np.array_equal(v.mask, second)


def test_class_keys_fill_polygon_eraser_and_brush_size(page, seg):
    p, v = seg
    ed = v.editor
    QTest.keyClick(v.view, Qt.Key.Key_3)  # class 3 = position 2 = car
    assert ed.value == 2 and ed.class_buttons[2].isChecked()
    QTest.keyClick(v.view, Qt.Key.Key_P)
    for x, y in ((10, 10), (20, 10), (20, 20), (10, 20)):
        click(v, x, y)
    click(v, 10.2, 10.2)  # back on the first point: closes and fills
    m = saved(p)
    assert (m[10:20, 10:20] == 2).all() and (m == 2).sum() == 100
    QTest.keyClick(v.view, Qt.Key.Key_1)  # background
    QTest.keyClick(v.view, Qt.Key.Key_F)
    click(v, 40.5, 40.5)  # fill the ignore area around the square: what looks like (40, 40)
    m = saved(p)
    assert (m[10:20, 10:20] == 2).all() and m[40, 40] == 0
    assert 0 < (m == 0).sum() <= 48 * 48 - 100
    QTest.keyClick(v.view, Qt.Key.Key_E)
    ed.set_size(1)
    QTest.keyClick(v.view, Qt.Key.Key_BracketRight)
    assert ed.size == 2
    QTest.keyClick(v.view, Qt.Key.Key_BracketLeft)
    assert ed.size == 1
    drag(v, [(15.5, 15.5), (15.5, 15.5)])
    m = saved(p)
    assert m[15, 15] == 255 and m[14, 15] == 2  # the eraser gives back ignore
    QTest.keyClick(v.view, Qt.Key.Key_0)  # ignore is a paintable class
    assert ed.value == 255
    assert p.image(p.query()[0]).labels == ("background", "car")


def test_pan_with_middle_button_and_space_does_not_paint(page, seg):
    p, v = seg
    v.view.set_zoom(20.0)
    v.view.centerOn(24, 24)
    h = v.view.horizontalScrollBar()
    start = h.value()
    assert h.maximum() > 0
    drag(v, [(20, 20), (10, 20), (5, 20)], button=Qt.MouseButton.MiddleButton)
    assert h.value() != start
    QTest.keyPress(v.view, Qt.Key.Key_Space)
    start = h.value()
    drag(v, [(24, 24), (26, 24)])
    assert h.value() != start
    QTest.keyRelease(v.view, Qt.Key.Key_Space)
    assert saved(p) is None  # no mask was made


def test_a_stroke_survives_closing_and_reopening(page, seg, tmp_path):
    p, v = seg
    v.editor.set_size(5)
    drag(v, [(5.5, 5.5), (40.5, 5.5)])
    page.state.set_project(None)
    p.close()
    q = Project.open(tmp_path / "seg")
    try:
        m = q.read_mask(q.query()[0])
        assert (m[4:7, 5:41] == 1).all()
        page.set_project(q)
        page.open_viewer(page.model.index(0))
        assert np.array_equal(page.viewer.mask, m)
    finally:
        page.state.set_project(None)
        q.close()


def test_a_mask_of_the_wrong_size_is_not_painted_over(page, tmp_path):
    p, _ = make_seg_project(tmp_path / "s", size=40)
    Image.fromarray(np.zeros((30, 40), np.uint8)).save(p.path / "masks/scene.png")
    before = (p.path / "masks/scene.png").read_bytes()
    page.set_project(p)
    page.open_viewer(page.model.index(0))
    v = page.viewer
    v.editor.paint_button.click()
    drag(v, [(5.5, 5.5), (20.5, 5.5)])
    assert (p.path / "masks/scene.png").read_bytes() == before
    assert (
        "40 × 30" in v.editor.problem.text()
        and "Nothing will be overwritten" in v.editor.problem.text()
    )
    assert not page.state.history.can_undo


def test_erasing_on_an_image_without_a_mask_makes_no_mask(page, seg):
    p, v = seg
    QTest.keyClick(v.view, Qt.Key.Key_E)
    drag(v, [(5.5, 5.5), (9.5, 5.5)])
    assert saved(p) is None and v.mask is None and not page.state.history.can_undo
    assert not list((p.path / "masks").iterdir())


def test_a_mask_with_a_value_beyond_the_classes_is_not_painted_over(page, tmp_path):
    p, mask = make_seg_project(tmp_path / "s", size=40)
    bad = mask.copy()
    bad[0, 0] = 7
    Image.fromarray(bad).save(p.path / "masks/scene.png")
    before = (p.path / "masks/scene.png").read_bytes()
    page.set_project(p)
    page.open_viewer(page.model.index(0))
    v = page.viewer
    v.editor.paint_button.click()
    QTest.keyClick(v.view, Qt.Key.Key_F)
    click(v, 10.5, 10.5)
    assert (p.path / "masks/scene.png").read_bytes() == before
    assert "value 7 has no class" in v.editor.problem.text()


def test_an_undecodable_image_cannot_be_painted(page, tmp_path):
    p = make_labeled_project(
        tmp_path / "b", "segmentation", n=1, classes=("background", "road"), bad=("broken.png",)
    )
    page.set_project(p)
    row = next(r for r in range(page.model.rowCount()) if page.model.record(r).name == "broken.png")
    page.open_viewer(page.model.index(row))
    v = page.viewer
    v.editor.paint_button.click()
    drag(v, [(2.5, 2.5), (6.5, 2.5)])
    assert p.image(page.model.record(row).id).mask is None
    assert "cannot be read" in v.editor.problem.text()
    assert not list((p.path / "masks").iterdir())


def test_erasing_a_whole_mask_makes_the_image_unlabeled_and_painting_starts_afresh(page, seg):
    p, v = seg
    iid = p.query()[0]
    v.editor.set_size(2)
    drag(v, [(10.5, 10.5), (12.5, 10.5)])
    QTest.keyClick(v.view, Qt.Key.Key_E)
    v.editor.set_size(9)
    drag(v, [(9.5, 10.5), (13.5, 10.5)])
    assert p.image(iid).mask is None and v.mask is None and iid in p.query(unlabeled=True)
    QTest.keyClick(v.view, Qt.Key.Key_B)
    v.editor.set_size(1)
    drag(v, [(30.5, 30.5), (30.5, 30.5)])
    m = saved(p)
    assert m[30, 30] == 1 and (m != 255).sum() == 1
    page.state.undo()
    assert p.image(iid).mask is None
    page.state.undo()
    assert saved(p)[10, 11] == 1 and np.array_equal(v.mask, saved(p))


def test_fill_on_a_new_empty_mask_takes_the_clicked_object_not_the_whole_image(page, tmp_path):
    """A new mask is all ignore: a fill there takes the pixels that look like the clicked one
    (the red square), not the whole image."""
    from engine.imports.api import import_paths

    src = tmp_path / "photos"
    src.mkdir()
    img = np.zeros((48, 48, 3), np.uint8)
    img[:] = (40, 60, 200)
    img[10:30, 12:36] = (220, 30, 30)
    Image.fromarray(img).save(src / "scene.png")
    p = Project.create(tmp_path / "seg2", "segmentation")
    p.ensure_classes(["background", "car"])
    import_paths(p, [src])
    page.set_project(p)
    page.open_viewer(page.model.index(0))
    v = page.viewer
    v.view.set_zoom(4.0)
    v.view.centerOn(24, 24)
    v.editor.paint_button.click()
    QTest.keyClick(v.view, Qt.Key.Key_2)  # car
    QTest.keyClick(v.view, Qt.Key.Key_F)
    click(v, 20.5, 20.5)
    m = saved(p)
    assert (m[10:30, 12:36] == 1).all() and (m == 1).sum() == 20 * 24
    assert (m == 255).sum() == 48 * 48 - 20 * 24  # the rest is still to be labeled

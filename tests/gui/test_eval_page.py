"""The Evaluate page on real (tiny) training results: top losses first, confusion matrix cells
that filter the list, per-class tables, relabelling with a number key, segmentation masks."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.project.store import Project
from engine.training.evaluation import load_evaluation
from gui.evaluate.page import EvaluatePage
from tests.support.projects import make_project as make_train_project
from tests.support.projects import train_tiny_projects


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    sizes = {"classification": 16, "segmentation": 12, "regression": 12}
    return train_tiny_projects(tmp_path_factory.mktemp("trained"), sizes)


@pytest.fixture
def opened(qtbot, bridge, trained, tmp_path):
    projects, pages = [], []

    def open_(task):
        import shutil

        folder = tmp_path / task
        shutil.copytree(trained[task], folder)  # relabelling must not leak between tests
        project = Project.open(folder)
        projects.append(project)
        page = EvaluatePage(bridge)
        qtbot.addWidget(page)
        page.resize(1100, 700)
        page.show()
        page.set_project(project)
        pages.append(page)
        return page, project

    yield open_
    for page in pages:
        page.shutdown()
    for p in projects:
        p.close()


def _row_names(page) -> list[str]:
    return [page.items.item(r, 0).text() for r in range(page.items.rowCount())]


def test_classification_top_losses_and_confusion_cell_filter(qtbot, opened):
    page, project = opened("classification")
    ev = load_evaluation(project)
    assert page.items.rowCount() == len(ev.items) == 4
    losses = [float(page.items.item(r, 3).text()) for r in range(page.items.rowCount())]
    assert losses == sorted(losses, reverse=True)  # most wrong first
    conf = page.confusion
    assert conf.rowCount() == conf.columnCount() == 2
    cells = np.array([[int(conf.item(r, c).text()) for c in range(2)] for r in range(2)])
    assert cells.sum() == 4 and (cells == ev.confusion).all()
    r, c = map(int, np.argwhere(cells > 0)[0])
    rect = conf.visualItemRect(conf.item(r, c))
    qtbot.mouseClick(conf.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert page.items.rowCount() == cells[r, c]
    names = ev.class_names
    for row in range(page.items.rowCount()):
        assert page.items.item(row, 1).text() == names[r]
        assert page.items.item(row, 2).text() == names[c]
    qtbot.mouseClick(page.show_all, Qt.MouseButton.LeftButton)
    assert page.items.rowCount() == 4
    page.wrong_only.setChecked(True)
    assert page.items.rowCount() == sum(not it.correct for it in ev.items)
    acc = {page.per_class.item(i, 0).text() for i in range(page.per_class.rowCount())}
    assert acc == set(names)


def test_number_key_relabels_selected_image(qtbot, opened):
    page, project = opened("classification")
    page.items.selectRow(0)
    iid = page.selected_id()
    before = project.image(iid).labels
    other = "blue" if before == ("red",) else "red"
    key = Qt.Key.Key_1 + project.class_names().index(other)
    qtbot.keyClick(page.items, key)
    assert project.image(iid).labels == (other,)
    assert page.items.item(0, 1).text() == other
    page.state.undo()
    assert project.image(iid).labels == before


def test_relabel_here_is_undone_from_the_data_page(qtbot, bridge, trained, tmp_path):
    """One undo history for the whole window: a label fixed on the Evaluate page is undone by
    Ctrl+Z on the Data page, through the app state both pages share."""
    import shutil

    from gui.data.page import DataPage
    from gui.state import AppState

    shutil.copytree(trained["classification"], tmp_path / "p")
    project = Project.open(tmp_path / "p")
    state = AppState()
    data, page = DataPage(bridge, state), EvaluatePage(bridge, state)
    for w in (data, page):
        qtbot.addWidget(w)
    state.set_project(project)
    page.items.selectRow(0)
    iid = page.selected_id()
    before = project.image(iid).labels
    other = "blue" if before == ("red",) else "red"
    assert not state.history.can_undo
    qtbot.keyClick(page.items, Qt.Key.Key_1 + project.class_names().index(other))
    assert project.image(iid).labels == (other,) and state.history.can_undo
    data.browser.setFocus()
    qtbot.keyClick(data.browser, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert project.image(iid).labels == before
    state.set_project(None)
    data.shutdown()
    page.shutdown()
    project.close()


def test_segmentation_shows_iou_and_masks(qtbot, opened):
    page, project = opened("segmentation")
    ev = load_evaluation(project)
    assert page.views.isVisible() and not page.confusion.isVisible()
    iou_rows = {page.per_class.item(i, 0).text() for i in range(page.per_class.rowCount())}
    assert iou_rows == {"background", "square"}
    page.items.selectRow(0)
    iid = page.selected_id()
    assert iid in ev.masks()
    assert page.pred_view.array is not None and page.truth_view.array is not None
    rec = project.image(iid)
    truth = np.array(__import__("PIL.Image", fromlist=["Image"]).open(project.abspath(rec.mask)))
    square = truth == 1
    # ground truth overlay: the square carries the class colour, the background does not
    img = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(project.abspath(rec.file)))
    assert (page.truth_view.array[square] != img[square]).any(axis=1).all()
    assert (page.truth_view.array[truth == 0] == img[truth == 0]).all()


def test_regression_scatter_shows_each_validation_image(qtbot, opened):
    page, project = opened("regression")
    ev = load_evaluation(project)
    assert page._scatter is not None and page._scatter.isVisible()
    xs, ys = page._scatter_points.getData()
    assert len(xs) == len(ev.items)
    assert sorted(np.round(xs, 4)) == sorted(round(it.target[0], 4) for it in ev.items)


def test_without_results_says_what_to_do(qtbot, bridge, tmp_path):
    project = make_train_project(tmp_path / "fresh", "classification", n=8)
    page = EvaluatePage(bridge)
    qtbot.addWidget(page)
    page.set_project(project)
    assert "Train" in page.summary.text() and page.items.rowCount() == 0
    page.shutdown()
    project.close()


def test_segmentation_list_shows_mask_file_names_and_no_number_key_hint(opened):
    page, project = opened("segmentation")
    masks = {r.id: r.mask for r in project.images()}
    for row in range(page.items.rowCount()):
        iid = page.items.item(row, 0).data(Qt.ItemDataRole.UserRole + 1)  # the image id
        shown = page.items.item(row, 1).text()
        assert shown == masks[iid].split("/")[-1] and "/" not in shown  # a name, not a path
    assert page.items.rowCount() > 0
    assert "1-9" not in page.summary.text() and "1-9" not in page.items.toolTip()
    cls_page, _ = opened("classification")
    assert "press its class number (1-9)" in cls_page.summary.text()


def test_confusion_cell_click_shows_an_image_of_that_cell_and_per_class_f1(qtbot, opened):
    """After clicking a cell the preview shows the first image of that cell, not the image
    selected before; the per-class table has precision, recall and F1; the summary says how
    good the model is against always answering one class."""
    page, project = opened("classification")
    ev = load_evaluation(project)
    conf = page.confusion
    cells = np.array([[int(conf.item(r, c).text()) for c in range(2)] for r in range(2)])
    for r, c in np.argwhere(cells > 0):
        qtbot.mouseClick(page.show_all, Qt.MouseButton.LeftButton)
        page.items.selectRow(0)  # the most wrong image of all is selected and shown
        rect = conf.visualItemRect(conf.item(int(r), int(c)))
        qtbot.mouseClick(conf.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        first = page.items.item(0, 0).text()
        assert page.selected_id() == page.items.item(0, 0).data(Qt.ItemDataRole.UserRole + 1)
        assert page.inspect.caption.text().startswith(f"<b>{first}</b>")
    headers = [page.per_class.horizontalHeaderItem(i).text() for i in range(5)]
    assert headers == ["class", "images", "precision", "recall", "F1"]
    assert all(page.per_class.item(i, 4).text() != "" or cells[i].sum() == 0 for i in range(2))
    verdict = page.verdict.text()
    assert page.verdict.isVisible() and f"on {len(ev.items)} validation images" in verdict
    assert "always answering “" in verdict

"""The thumbnail browser: a well-behaved Qt model, filters, lazy records, thumbnails."""

from __future__ import annotations

from PySide6.QtCore import Qt

from gui.data.image_model import ImageListModel, ids_from_mime
from tests.support.projects import make_labeled_project


def test_model_passes_qtmodeltester(qtmodeltester, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=5, labels=[["cat"], ["dog"], None, ["cat"], None])
    model = ImageListModel()
    model.set_project(p)
    model.set_ids(p.query())
    qtmodeltester.check(model, force_py=True)
    model.update_ids(p.query(unlabeled=True))  # rows removed in place
    qtmodeltester.check(model, force_py=True)
    assert model.rowCount() == 2
    assert model.index(0).data(Qt.ItemDataRole.DisplayRole) == "img_002.png"


def test_update_ids_removes_and_inserts_rows_without_reset(qtbot, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=6)
    model = ImageListModel()
    model.set_project(p)
    ids = p.query()
    model.set_ids(ids)
    resets, removed, inserted = [], [], []
    model.modelReset.connect(lambda: resets.append(1))
    model.rowsRemoved.connect(lambda _p, a, b: removed.append((a, b)))
    model.rowsInserted.connect(lambda _p, a, b: inserted.append((a, b)))
    model.update_ids([ids[0], ids[3], ids[4]])
    assert model.ids == [ids[0], ids[3], ids[4]]
    model.update_ids(ids)
    assert model.ids == ids
    assert resets == []
    assert removed == [(5, 5), (1, 2)]
    assert inserted == [(1, 2), (5, 5)]


def test_mime_data_carries_the_selected_ids(tmp_path):
    p = make_labeled_project(tmp_path / "p", n=4)
    model = ImageListModel()
    model.set_project(p)
    ids = p.query()
    model.set_ids(ids)
    mime = model.mimeData([model.index(3), model.index(1)])
    assert ids_from_mime(mime) == [ids[1], ids[3]]
    assert model.flags(model.index(0)) & Qt.ItemFlag.ItemIsDragEnabled


def test_filters_give_the_right_rows(page, qtbot, tmp_path):
    labels = [["cat"], ["dog"], None, ["cat"], None, ["dog"]]
    splits = ["train", "valid", "train", "valid", "test", "train"]
    p = make_labeled_project(tmp_path / "p", n=6, labels=labels, splits=splits)
    page.set_project(p)
    f = page.filters
    names = lambda: [page.model.index(r).data() for r in range(page.model.rowCount())]  # noqa: E731
    assert page.model.rowCount() == 6
    assert f.count.text() == "6 images"
    f.label.setCurrentIndex(f.label.findData("cat"))
    assert names() == ["img_000.png", "img_003.png"]
    assert f.count.text() == "2 of 6 images"
    f.split.setCurrentIndex(f.split.findData("valid"))
    assert names() == ["img_003.png"]
    f.label.setCurrentIndex(f.label.findText("Unlabeled"))
    f.split.setCurrentIndex(0)
    assert names() == ["img_002.png", "img_004.png"]
    f.label.setCurrentIndex(0)
    f.text.setText("_00")
    qtbot.waitUntil(lambda: page.model.rowCount() == 6)
    f.text.setText("img_005")
    qtbot.waitUntil(lambda: names() == ["img_005.png"])
    f.text.setText("nothing-matches")
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)
    assert page.stack.currentWidget() is page.empty
    assert "No image matches" in page.empty.text()


def test_thumbnails_load_off_thread_and_bad_files_say_so(page, qtbot, tmp_path):
    p = make_labeled_project(tmp_path / "p", n=3, bad=["broken.jpg"])
    page.set_project(p)
    model = page.model
    bad_row = model.rowCount() - 1
    for r in range(model.rowCount()):  # what painting a visible tile does
        model.index(r).data(ImageListModel.ThumbRole)
    qtbot.waitUntil(lambda: page.loader.loaded_count == 3, timeout=10000)
    qtbot.waitUntil(lambda: model.index(bad_row).data(ImageListModel.ThumbErrorRole) is not None)
    assert model.index(0).data(ImageListModel.ThumbRole).width() == 32
    assert "not an image" in model.index(bad_row).data(ImageListModel.ThumbErrorRole)
    assert "cannot read" in model.index(bad_row).data(Qt.ItemDataRole.ToolTipRole)
    assert len(list((p.path / "thumbs").glob("*.jpg"))) == 3  # the disk cache
    page.browser.viewport().repaint()  # the delegate paints every tile state without error


def _big_project(path, n: int):
    """A project with n image rows (no files: only records are needed). Rows go in with one
    executemany, as add_images of 100k rows would cost most of this test's time budget."""
    import sqlite3

    from engine.project.store import Project

    Project.create(path, "classification").close()
    db = sqlite3.connect(path / "project.db")
    with db:
        db.executemany(
            "INSERT INTO images(file, name, sha1, width, height, split, added) "
            "VALUES (?,?,?,?,?,'train',0)",
            [(f"images/{i}.png", f"{i:06d}.png", f"{i:040x}", 8, 8) for i in range(n)],
        )
    db.close()
    return Project.open(path)


def test_100k_rows_scroll_without_loading_every_record(qtbot, tmp_path):
    from gui.data.browser import ImageBrowser

    p = _big_project(tmp_path / "big", 100_000)
    model = ImageListModel()
    model.set_project(p)  # no thumbnail loader: this measures record fetching only
    model.set_ids(p.query())
    view = ImageBrowser()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(900, 600)
    view.show()
    qtbot.waitExposed(view)
    bar = view.verticalScrollBar()
    last_row = model.index(model.rowCount() - 1)
    # Batched layout runs in the background; the grid is ready when the last tile has a place.
    qtbot.waitUntil(lambda: view.rectForIndex(last_row).top() > 0, timeout=20000)
    centre = view.viewport().rect().center()
    seen = []
    for frac in (0.1, 0.35, 0.6, 0.85, 1.0):
        bar.setValue(int(bar.maximum() * frac))
        view.viewport().repaint()
        seen.append(view.indexAt(centre).row())
    assert model.rowCount() == 100_000
    assert seen[0] > 5_000 and seen[-1] > 99_000  # it really scrolled through the whole list
    assert model.fetch_calls >= 5  # each position fetched the page it shows ...
    assert model.fetch_count <= 15 * 200, model.fetch_count  # ... and only a few pages

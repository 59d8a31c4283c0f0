"""Dropping files and folders on the window: a real QDropEvent with file URLs imports them
through the bridge; bad files are reported, the rest imported; an import can be cancelled;
a drop with no project open offers to make one from the folder."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtWidgets import QDialog

from engine.project.store import Project
from tests.support.qt import drag_enter, press_when_shown, shown_main_window
from tests.support.qt import drop_files as drop


def write_images(folder: Path, n: int, size: int = 16, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(start, start + n):
        arr = np.random.default_rng(i).integers(0, 255, (size, size, 3), dtype=np.uint8)
        p = folder / f"pic_{i:03d}.png"
        Image.fromarray(arr).save(p)
        out.append(p)
    return out


@pytest.fixture
def window(qtbot):
    return shown_main_window(qtbot)


@pytest.fixture
def opened(window, tmp_path):
    window.projects.create_project(tmp_path / "proj", "classification")
    assert window.project is not None
    return window


def test_drop_folder_imports_and_reports_corrupt_file(opened, tmp_path, qtbot):
    w = opened
    src = tmp_path / "incoming"
    write_images(src, 5)
    (src / "broken.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
    before = {p: p.read_bytes() for p in src.iterdir()}
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        assert drop(w, [src])
    assert w.project.count() == 5
    dlg = w.imports.report_dialog
    assert dlg is not None and dlg.isVisible()
    assert dlg.added == 5
    assert "Added 5 images" in dlg.summary.text() and "1 file skipped" in dlg.summary.text()
    rows = dict(dlg.rows())
    assert "broken.jpg" in rows and rows["broken.jpg"].startswith("Skipped:")
    assert w.imports.progress is None  # the progress dialog is gone
    assert "5 images" in w.project_label.text()
    # the user's originals are untouched
    assert {p: p.read_bytes() for p in src.iterdir()} == before

    # the same folder again (the project holds images now, so it asks): all duplicates
    answer = press_when_shown("dropChoice", "Add to")
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        drop(w, [src])
    answer.stop()
    assert w.project.count() == 5
    dlg = w.imports.report_dialog
    assert len(dlg.duplicates) == 5
    assert any(what.startswith("Duplicate of") for _, what in dlg.rows())


def test_drop_single_files_and_ignore_non_file_urls(opened, tmp_path, qtbot):
    w = opened
    files = write_images(tmp_path / "loose", 2)
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        drop(w, files)
    assert w.project.count() == 2

    mime = QMimeData()
    mime.setUrls([QUrl("https://example.com/cat.jpg")])
    enter = drag_enter(w, QPoint(5, 5), mime)
    assert not enter.isAccepted()


def test_cancel_a_large_import(opened, tmp_path, qtbot, monkeypatch):
    import engine.imports.pipeline as pipeline

    real = pipeline.load_rgb

    def slow_load(path, **kw):  # a slow disk: each file takes a while, so there is time to cancel
        time.sleep(0.02)
        return real(path, **kw)

    monkeypatch.setattr(pipeline, "load_rgb", slow_load)
    w = opened
    src = tmp_path / "many"
    write_images(src, 150, size=8)
    drop(w, [src])
    qtbot.waitUntil(lambda: w.imports.progress is not None, timeout=5000)
    dlg = w.imports.progress
    qtbot.waitUntil(lambda: dlg.bar.value() >= 5, timeout=20000)  # progress is shown
    assert dlg.isVisible()
    with qtbot.waitSignal(w.bridge.cancelled, timeout=20000):
        qtbot.mouseClick(dlg.cancel_button, Qt.MouseButton.LeftButton)
    n = w.project.count()
    assert 0 < n < 150
    report = w.imports.report_dialog
    assert report.windowTitle() == "Import cancelled"
    assert f"Added {n} image" in report.summary.text()
    # the project is consistent and usable afterwards
    w.projects.close_project()
    with Project.open(tmp_path / "proj") as p:
        assert p.count() == n


def test_drop_on_start_page_offers_a_project_from_class_folders(
    window, tmp_path, qtbot, monkeypatch
):
    from gui.start import page as start_page

    src = tmp_path / "animals"
    write_images(src / "cat", 2)
    write_images(src / "dog", 2, start=10)
    seen = {}

    def accept(dlg):
        seen["note"] = dlg.findChild(type(dlg.path_label), "note").text()
        seen["name"] = dlg.name_edit.text()
        dlg.location_edit.setText(str(tmp_path / "projects"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(start_page.NewProjectDialog, "exec", accept)
    assert window.project is None
    with qtbot.waitSignal(window.bridge.finished, timeout=30000):
        assert drop(window, [src])
    assert seen["name"] == "animals"
    assert "cat, dog" in seen["note"]
    p = window.project
    assert p.path == (tmp_path / "projects" / "animals").resolve()
    assert p.task == "classification"
    assert p.class_names() == ["cat", "dog"]
    assert p.count() == 4 and p.counts().unlabeled == 0


def test_validation_folder_is_a_split_for_the_offer_and_the_import(
    window, tmp_path, qtbot, monkeypatch
):
    """The New-project note and the import agree: validation/ holds the valid split."""
    from gui.start import page as start_page

    src = tmp_path / "pets"
    write_images(src / "train" / "cat", 2)
    write_images(src / "train" / "dog", 2, start=10)
    write_images(src / "validation" / "cat", 1, start=20)
    write_images(src / "validation" / "dog", 1, start=30)
    notes = []

    def accept(dlg):
        notes.append(dlg.findChild(type(dlg.path_label), "note").text())
        dlg.location_edit.setText(str(tmp_path / "projects"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(start_page.NewProjectDialog, "exec", accept)
    with qtbot.waitSignal(window.bridge.finished, timeout=30000):
        assert drop(window, [src])
    assert "2 sub-folders" in notes[0] and "cat, dog" in notes[0]
    p = window.project
    assert p.class_names() == ["cat", "dog"]
    assert p.counts().per_split == {"train": 4, "valid": 2}


def test_drop_on_start_page_can_be_declined(window, tmp_path, monkeypatch):
    from gui.start import page as start_page

    write_images(tmp_path / "x", 1)
    monkeypatch.setattr(start_page.NewProjectDialog, "exec", lambda d: QDialog.DialogCode.Rejected)
    assert window.imports.offer_project_from([str(tmp_path / "x")]) is False
    assert window.project is None and not window.bridge.busy


def test_menu_dialogs_check_input_and_import(opened, tmp_path, qtbot):
    from gui.imports.dialogs import CsvImportDialog, RegexImportDialog

    w = opened
    src = tmp_path / "named"
    for i, name in enumerate(["apple_1.png", "apple_2.png", "pear_3.png"]):
        write_images(src, 1, start=i)[0].rename(src / name)

    rx = RegexImportDialog(w, w.project)
    qtbot.addWidget(rx)
    rx.dir_row.edit.setText(str(src))
    rx.pattern.setText("([a-z")
    assert "not a valid regular expression" in rx.preview.text()
    rx.pattern.setText(r"^(\w+?)_\d+")
    assert "3 of 3 files match; 2 labels" in rx.preview.text()
    assert rx.buttons.buttons()[0].isEnabled()
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        w.imports.start("Importing", rx.importer(), *rx.args())
    assert w.project.counts().per_class == {"apple": 2, "pear": 1}

    csv_dir = tmp_path / "csv"
    write_images(csv_dir, 2, start=20)
    (csv_dir / "labels.csv").write_text("file\npic_020.png\n")
    dlg = CsvImportDialog(w, w.project)
    qtbot.addWidget(dlg)
    dlg.csv_row.edit.setText(str(csv_dir / "labels.csv"))
    assert dlg.dir_row.edit.text() == str(csv_dir)  # the CSV's folder is the default
    assert "at least two columns" in dlg.preview.text()
    assert not dlg.buttons.buttons()[0].isEnabled()
    (csv_dir / "labels.csv").write_text("file,label\npic_020.png,pear\npic_021.png,plum\n")
    dlg.refresh()
    assert dlg.buttons.buttons()[0].isEnabled()
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        w.imports.start("Importing", dlg.importer(), *dlg.args(), **dlg.kwargs())
    assert w.project.counts().per_class == {"apple": 2, "pear": 2, "plum": 1}


def test_segmentation_dialog_finds_masks_and_imports(window, tmp_path, qtbot):
    from gui.imports.dialogs import SegmentationImportDialog

    window.projects.create_project(tmp_path / "seg", "segmentation")
    write_images(tmp_path / "data" / "images", 2, size=16)
    (tmp_path / "data" / "masks").mkdir()
    for i in range(2):
        mask = np.zeros((16, 16), np.uint8)
        mask[4:12, 4:12] = 1
        Image.fromarray(mask, "L").save(tmp_path / "data" / "masks" / f"pic_{i:03d}.png")
    (tmp_path / "data" / "codes.txt").write_text("background\nblob\n")
    dlg = SegmentationImportDialog(window, window.project)
    qtbot.addWidget(dlg)
    dlg.images_row.edit.setText(str(tmp_path / "data" / "images"))
    assert dlg.masks_row.edit.text() == str(tmp_path / "data" / "masks")
    assert dlg.codes_row.edit.text() == str(tmp_path / "data" / "codes.txt")
    assert "2 images have a mask" in dlg.preview.text()
    with qtbot.waitSignal(window.bridge.finished, timeout=30000):
        window.imports.start("Importing", dlg.importer(), *dlg.args())
    p = window.project
    assert p.count() == 2 and p.class_names() == ["background", "blob"]
    assert all(r.mask for r in p.images())


def test_failed_import_is_reported_not_raised(opened, tmp_path, qtbot):
    from engine.imports.api import import_segmentation

    w = opened  # a classification project cannot take masks: the engine says why
    with qtbot.waitSignal(w.bridge.failed, timeout=30000):
        w.imports.start("Importing", import_segmentation, tmp_path, tmp_path)
    title, text = w.last_message
    assert title == "The import stopped" and "segmentation" in text
    assert w.imports.progress is None


def test_dropping_a_project_folder_opens_it(window, tmp_path, qtbot):
    Project.create(tmp_path / "existing", "multilabel").close()
    assert drop(window, [tmp_path / "existing"])
    qtbot.waitUntil(lambda: window.project is not None, timeout=5000)
    assert window.project.task == "multilabel" and window.project.count() == 0


def _project_with(window, tmp_path, classes=("cat", "dog")):
    src = tmp_path / "demo_src"
    for k, c in enumerate(classes):
        write_images(src / c, 3, start=100 * k + 500)
    window.projects.create_project(tmp_path / "demo", "classification")
    window.imports.import_paths([str(src)])
    return src


def test_folder_dropped_on_a_project_asks_and_an_added_import_is_one_undo(window, tmp_path, qtbot):
    """ants/bees dropped with the demo open: a question first; "Add" imports, and one Ctrl+Z
    (Edit > Undo) takes the whole import out again, classes included."""
    from PySide6.QtGui import QKeySequence

    w = window
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        _project_with(w, tmp_path)
    assert w.project.count() == 6
    w.imports.report_dialog.close()
    hymenoptera = tmp_path / "hymenoptera"
    write_images(hymenoptera / "ants", 4, start=0)
    write_images(hymenoptera / "bees", 4, start=50)

    seen: list[str] = []
    answer = press_when_shown("dropChoice", "Cancel", seen)
    assert drop(w, [hymenoptera])
    qtbot.waitUntil(lambda: bool(seen), timeout=5000)
    assert "hymenoptera" in seen[0] and "8 images" in seen[0] and "6 images now" in seen[0]
    assert not w.bridge.busy and w.project.count() == 6  # cancel: nothing happened

    answer = press_when_shown("dropChoice", "Add to")
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        drop(w, [hymenoptera])
    answer.stop()
    assert w.project.count() == 14 and w.project.class_names() == ["cat", "dog", "ants", "bees"]
    assert "Ctrl+Z" in w.imports.report_dialog.summary.text()
    undo = w.menus.act_undo
    assert undo.isEnabled() and "import 8 images from hymenoptera" in undo.text()
    assert undo.shortcut() == QKeySequence("Ctrl+Z")
    undo.trigger()
    assert w.project.count() == 6 and w.project.class_names() == ["cat", "dog"]
    w.menus.act_redo.trigger()
    assert w.project.count() == 14


def test_folder_dropped_on_a_project_can_become_a_new_project(window, tmp_path, qtbot, monkeypatch):
    from gui.start import page as start_page

    w = window
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        _project_with(w, tmp_path)
    first = w.project.path
    src = tmp_path / "hymenoptera"
    write_images(src / "ants", 2, start=0)
    write_images(src / "bees", 2, start=50)

    def accept(dlg):
        dlg.location_edit.setText(str(tmp_path / "projects"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(start_page.NewProjectDialog, "exec", accept)
    answer = press_when_shown("dropChoice", "New project")
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        drop(w, [src])
    answer.stop()
    assert w.project.path == (tmp_path / "projects" / "hymenoptera").resolve()
    assert w.project.count() == 4
    with Project.open(first) as old:
        assert old.count() == 6  # the project that was open is unchanged


def test_a_project_from_a_train_folder_is_named_after_its_data_set(window, tmp_path, monkeypatch):
    from gui.start import page as start_page

    write_images(tmp_path / "hymenoptera_data" / "train" / "ants", 1)
    seen = {}

    def decline(dlg):
        seen["name"] = dlg.name_edit.text()
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(start_page.NewProjectDialog, "exec", decline)
    window.imports.offer_project_from([str(tmp_path / "hymenoptera_data" / "train")])
    assert seen["name"] == "hymenoptera_data"

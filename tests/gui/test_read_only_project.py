"""A read-only project in the main window (issue 12): the title says "read-only"; browsing,
evaluating and predicting work; labelling, renaming a class, importing and training are refused
with a message that says why, never a traceback; not a byte of the project changes.

The folder is made really read-only: `chmod -R a-w` for a normal user; as root (which chmod
does not stop) `chattr +i`, or, where the filesystem refuses that, a database opened with
SQLite's read-only mode (what a non-root user meets)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from engine.project import db as project_db
from engine.project.store import Project
from tests.support.projects import make_project, train_tiny_projects
from tests.support.qt import shown_main_window


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny_projects(tmp_path_factory.mktemp("trained"), {"classification": 12})


@pytest.fixture
def write_protect(monkeypatch):
    """Make a project folder read-only for this process, by the strongest means available."""
    undo = []

    def protect(folder: Path) -> str:
        if os.geteuid() != 0:
            for p in [folder, *folder.rglob("*")]:
                p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            undo.append(lambda: subprocess.run(["chmod", "-R", "u+w", str(folder)]))
            return "chmod"
        if subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True).returncode:

            def read_only_connect(path):  # root, no chattr here: SQLite's read-only mode
                uri = (Path(path) / project_db.DB_FILE).as_uri() + "?mode=ro"
                return sqlite3.connect(uri, uri=True, check_same_thread=False)

            monkeypatch.setattr(project_db, "connect", read_only_connect)
            return "sqlite mode=ro"
        undo.append(lambda: subprocess.run(["chattr", "-R", "-i", str(folder)]))
        return "chattr +i"

    yield protect
    for fn in undo:
        fn()


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_read_only_project_browses_evaluates_predicts_and_refuses_changes(
    qtbot, trained, tmp_path, write_protect
):
    folder = tmp_path / "ro"
    shutil.copytree(trained["classification"], folder)
    image = tmp_path / "photo.png"
    with Project.open(folder) as p:
        shutil.copy(p.abspath(p.images()[0].file), image)
    how = write_protect(folder)
    before = _snapshot(folder)

    w = shown_main_window(qtbot)
    assert w.projects.open_project(str(folder))
    assert w.project.read_only, how
    assert "read-only" in w.windowTitle()
    assert w.last_message[0] == "Opened read-only" and "read-only" in w.last_message[1]
    assert "read-only" in w.project_label.text()
    data, train, evaluate, predict = w.pages

    # browse: every image is listed
    assert data.model.rowCount() == 12
    labels = {r.id: r.labels for r in w.project.images()}

    # label: refused, said on the status bar, nothing changed
    ids = [r.id for r in w.project.images()[:2]]
    data.edits.apply_class("blue", ids)
    assert "read-only" in w.statusBar().currentMessage()
    # rename a class: refused the same way
    w.statusBar().clearMessage()
    assert not data.panel.rename_class("red", "crimson")
    assert "read-only" in w.statusBar().currentMessage()
    assert sorted(w.project.class_names()) == ["blue", "red"]

    # import: refused with a message before anything is copied
    assert not w.imports.import_paths([str(image)])
    assert w.last_message[0] == "The project is read-only"

    # train (and the LR finder): refused, the Train page says why
    w.tabs.setCurrentWidget(train)
    assert not train.start_training()
    assert "read-only" in train.run.status.text()
    assert not train.start_lr_find()
    assert not w.bridge.busy

    # evaluate: the saved evaluation is shown; relabelling from it is refused
    w.tabs.setCurrentWidget(evaluate)
    evaluate.reload()
    assert evaluate.evaluation is not None and evaluate.items.rowCount() > 0
    evaluate.items.selectRow(0)
    assert not evaluate.relabel(2)

    # predict: works
    w.tabs.setCurrentWidget(predict)
    with qtbot.waitSignal(w.bridge.finished, timeout=60000):
        assert predict.predict_paths([str(image)])
    assert predict.results[str(image)][0].label in ("red", "blue")

    assert {r.id: r.labels for r in w.project.images()} == labels
    w.grab().save(str(tmp_path / "read_only.png"))
    if os.environ.get("TOPDOWN_SHOTS"):
        shutil.copy(tmp_path / "read_only.png", os.environ["TOPDOWN_SHOTS"])
    w.close()
    assert _snapshot(folder) == before  # not a byte changed


def test_read_only_database_refuses_a_painted_mask_before_writing_it(tmp_path, monkeypatch):
    """A write-protected project.db in a writable folder: the mask file is not rewritten
    either (it must not disagree with its database row)."""
    import numpy as np

    from tests.support.projects import make_seg_project

    project, mask = make_seg_project(tmp_path / "seg")
    rec = project.images()[0]
    project.save_mask(rec.id, mask)
    project.close()
    with Project.open(tmp_path / "seg") as p:
        mask_file = p.abspath(p.images()[0].mask)
    before = mask_file.read_bytes()

    def read_only_connect(path):
        uri = (Path(path) / project_db.DB_FILE).as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    monkeypatch.setattr(project_db, "connect", read_only_connect)
    with Project.open(tmp_path / "seg") as p:
        assert p.read_only
        with pytest.raises(project_db.ProjectError, match="read-only"):
            p.save_mask(rec.id, np.zeros_like(mask))
        with pytest.raises(project_db.ProjectError, match="read-only"):
            p.set_targets(["x"])
    assert mask_file.read_bytes() == before


def test_damaged_project_offers_its_backup_and_restores_it(qtbot, tmp_path):
    project = make_project(tmp_path / "p", n=8)
    first = project.images()[0]
    project.set_labels([first.id], ["blue"])
    project.close()
    damaged = os.urandom(30000)
    (tmp_path / "p" / "project.db").write_bytes(damaged)
    w = shown_main_window(qtbot)
    seen = {}

    def answer(button_text: str):
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, lambda: answer(button_text))
            return
        seen["text"] = box.text() + " " + box.informativeText()
        seen["buttons"] = [b.text() for b in box.buttons()]
        if os.environ.get("TOPDOWN_SHOTS"):
            box.grab().save(os.path.join(os.environ["TOPDOWN_SHOTS"], "restore_box.png"))
        next(b for b in box.buttons() if b.text().startswith(button_text)).click()

    QTimer.singleShot(0, lambda: answer("Cancel"))
    assert not w.projects.open_project(str(tmp_path / "p"))
    assert "damaged" in seen["text"] and "less than a minute old" in seen["text"]
    assert any(t.startswith("Restore backup from ") for t in seen["buttons"])
    assert (tmp_path / "p" / "project.db").read_bytes() == damaged  # cancel: left alone

    QTimer.singleShot(0, lambda: answer("Restore backup from"))
    assert w.projects.open_project(str(tmp_path / "p"))
    assert w.last_message[0] == "Backup restored" and "damaged-" in w.last_message[1]
    assert list(w.project.image(first.id).labels) == ["blue"]
    kept = list((tmp_path / "p").glob("project.db.damaged-*"))
    assert [k.read_bytes() for k in kept] == [damaged]
    w.close()

"""The main window: it shows fast without torch, opens and reopens projects, explains a project
from a newer Topdown, wires undo/redo to the Data page, and closes cleanly during a job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from engine.project.store import NewImage, Project
from tests.support.qt import shown_main_window

ROOT = Path(__file__).resolve().parents[2]


def make_images_project(path: Path, n: int = 4, classes=("cat", "dog")) -> Project:
    """A classification project with n tiny unlabeled images and the given classes."""
    import hashlib

    p = Project.create(path, "classification")
    p.ensure_classes(classes)
    items = []
    for i in range(n):
        rel = f"images/im_{i}.png"
        arr = np.full((24, 24, 3), (40 * i) % 255, np.uint8)
        Image.fromarray(arr).save(p.path / rel)
        sha = hashlib.sha1((p.path / rel).read_bytes()).hexdigest()
        items.append(NewImage(rel, f"im_{i}.png", "test", sha, 24, 24))
    p.add_images(items)
    return p


@pytest.fixture
def window(qtbot, monkeypatch):
    return shown_main_window(qtbot)


def test_window_shows_start_page_and_menus(window):
    assert window.isVisible()
    assert window.stack.currentWidget() is window.start_page
    assert window.windowTitle() == "Topdown"
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["File", "Edit", "View", "Tools", "Help"]
    file_items = [a.text().replace("&", "") for a in window.menuBar().actions()[0].menu().actions()]
    for wanted in (
        "New project…",
        "Open project…",
        "Open recent",
        "Import images or folder…",
        "Import CSV labels…",
        "Import labels from file names (regex)…",
        "Import segmentation images + masks…",
        "Close project",
        "Quit",
    ):
        assert wanted in file_items
    # nothing to import into or close yet
    assert not any(a.isEnabled() for a in window.menus.import_actions)
    assert not window.menus.act_close.isEnabled()
    assert window.menus.act_undo.shortcut().toString() == "Ctrl+Z"
    assert "Ctrl+Shift+Z" in [k.toString() for k in window.menus.act_redo.shortcuts()]


def test_startup_probe_shows_window_without_torch(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", TOPDOWN_CONFIG_DIR=str(tmp_path))
    start = time.time()
    out = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--startup-probe"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    info = json.loads(out.stdout.strip().splitlines()[-1])
    assert info["torch_loaded"] is False
    assert 0 < info["shown_at"] - start < 30


def test_open_close_and_reopen_recent(window, tmp_path, qtbot):
    proj = make_images_project(tmp_path / "birds", n=3)
    proj.close()
    assert window.projects.open_project(str(tmp_path / "birds"))
    assert window.stack.currentWidget() is window.tabs
    assert window.tabs.tabText(0) == "Data"
    assert "birds" in window.windowTitle()
    status = window.project_label.text()
    assert "birds" in status and "Classification" in status and "3 images" in status
    assert all(a.isEnabled() for a in window.menus.import_actions[:3])
    assert not window.menus.import_actions[3].isEnabled()  # masks only for segmentation

    window.projects.close_project()
    assert window.project is None
    assert window.stack.currentWidget() is window.start_page
    sp = window.start_page
    assert sp.recent_paths() == [str((tmp_path / "birds").resolve())]
    # a click on the recent entry reopens it
    item = sp.recent_list.item(0)
    rect = sp.recent_list.visualItemRect(item)
    from PySide6.QtCore import Qt

    qtbot.mouseClick(sp.recent_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.project is not None, timeout=5000)
    assert window.project.count() == 3


def test_newer_version_project_shows_clear_message(window, tmp_path):
    proj = make_images_project(tmp_path / "future", n=1)
    proj.close()
    pj = tmp_path / "future" / "project.json"
    meta = json.loads(pj.read_text())
    meta["schema_version"] = 99
    pj.write_text(json.dumps(meta))
    assert window.projects.open_project(str(tmp_path / "future")) is False
    title, text = window.last_message
    assert title == "Project from a newer Topdown"
    assert "newer version of Topdown" in text and "Update Topdown" in text
    assert window.project is None


def test_not_a_project_message_names_the_folder(window, tmp_path):
    assert window.projects.open_project(str(tmp_path)) is False
    assert str(tmp_path) in window.last_message[1]


def test_edit_undo_redo_reach_the_data_page(window, tmp_path):
    make_images_project(tmp_path / "p", n=2).close()
    window.projects.open_project(str(tmp_path / "p"))
    p = window.project
    first = p.query()[0]
    assert not window.menus.act_undo.isEnabled()
    window.data_page.edits.apply_class("cat", [first])
    assert p.image(first).labels == ("cat",)
    assert window.menus.act_undo.isEnabled()
    window.menus.act_undo.trigger()
    assert p.image(first).labels == ()
    assert window.menus.act_redo.isEnabled()
    window.menus.act_redo.trigger()
    assert p.image(first).labels == ("cat",)


def test_close_during_a_job_asks_then_cancels(window, qtbot):
    from gui.common import settings

    started = threading.Event()

    def long_job(job):
        started.set()
        while True:
            job.control.check()
            time.sleep(0.01)

    answers = []
    window.ask = lambda title, text: answers.append(text) or False
    window.bridge.submit("long job", long_job)
    assert started.wait(10)
    window.close()
    assert window.isVisible(), "saying No keeps the window open"
    assert window.bridge.busy and "long job" in answers[0]

    window.ask = lambda title, text: True
    t0 = time.monotonic()
    window.close()
    assert not window.isVisible()
    assert not window.bridge._worker.isRunning()
    assert time.monotonic() - t0 < 5
    assert settings.get("window/main/geometry") is not None


def test_torch_warm_up_runs_in_the_background():
    from gui.app import warm_up_torch

    thread = warm_up_torch()
    assert thread.daemon and thread is warm_up_torch()  # once per process
    thread.join(120)
    assert not thread.is_alive() and "torchvision" in sys.modules


def test_train_first_offers_the_train_page(window, tmp_path, qtbot):
    """Without a model, "Label next" says to train first and its "Go to Train" opens that page;
    so does the link in the Predict page's heatmap note."""
    from PySide6.QtWidgets import QMessageBox

    make_images_project(tmp_path / "p", n=3).close()
    window.projects.open_project(str(tmp_path / "p"))
    assert window.tabs.currentWidget() is window.data_page
    assert not window.data_page.label_next.trigger()
    box = window.data_page.train_offer
    assert box.isVisible() and "Train a model first" in box.text()
    go = next(b for b in box.buttons() if b.text() == "Go to Train")
    go.click()
    assert window.tabs.currentWidget().title == "Train"
    assert box.buttonRole(go) == QMessageBox.ButtonRole.AcceptRole

    evaluate = next(p for p in window.pages if p.title == "Evaluate")
    window.tabs.setCurrentWidget(evaluate)
    assert "No results yet" in evaluate.summary.text()
    evaluate.summary.linkActivated.emit("train")
    assert window.tabs.currentWidget().title == "Train"

    predict = next(p for p in window.pages if p.title == "Predict")
    predict.heatmap.show_for("im_0.png", np.zeros((8, 8, 3), np.uint8), "classification", ["cat"])
    predict.heatmap.toggle.setChecked(True)
    window.tabs.setCurrentWidget(predict)
    predict.heatmap._request()
    assert "Go to Train" in predict.heatmap.note.text()
    window.tabs.setCurrentWidget(window.data_page)
    predict.heatmap.note.linkActivated.emit("train")
    assert window.tabs.currentWidget().title == "Train"

    # predicting without a model fails with the engine's message and the same offer
    window.tabs.setCurrentWidget(predict)
    with qtbot.waitSignal(window.bridge.job("predict").failed, timeout=30000):
        assert predict.predict_paths([str(tmp_path / "p" / "images" / "im_0.png")])
    assert "Train a model first" in predict.status.text()
    predict.status.linkActivated.emit("train")
    assert window.tabs.currentWidget().title == "Train"

"""Tools ▸ Check data…: runs on the worker thread, lists findings with thumbnails, one-click fix
(undoable), cancel."""

from __future__ import annotations

import numpy as np
from PIL import Image

from engine.imaging import file_sha1
from engine.project.store import NewImage, Project
from tests.support.qt import shown_main_window


def _leaky_project(path) -> Project:
    """12 distinct images in train/valid, plus a copy of a train image in valid."""
    p = Project.create(path, "classification")
    p.ensure_classes(["a", "b"])
    items = []
    for i in range(13):
        rng = np.random.default_rng(i if i < 12 else 0)  # image 12 = image 0
        a = np.repeat(np.repeat(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8), 6, 0), 6, 1)
        rel = f"images/i{i}.png"
        Image.fromarray(a).save(p.path / rel)
        split = "valid" if i % 4 == 3 or i == 12 else "train"
        items.append(NewImage(rel, f"i{i}.png", "t", file_sha1(p.path / rel), 48, 48,
                              labels=["a" if i % 2 == 0 else "b"], split=split))  # fmt: skip
    items[12].sha1 += "x"  # same pixels, stored as another file (e.g. re-saved)
    p.add_images(items)
    return p


def test_check_dialog_lists_leakage_and_fixes_it(qtbot, tmp_path):
    _leaky_project(tmp_path / "p").close()
    window = shown_main_window(qtbot)
    act = window.menus.check_action.action
    assert not act.isEnabled()
    assert window.projects.open_project(str(tmp_path / "p"))
    assert act.isEnabled()
    with qtbot.waitSignal(window.bridge.job("check").finished, timeout=60000):
        act.trigger()
    dlg = window.menus.check_action.dialog
    assert dlg.isVisible() and "13 images checked" in dlg.status.text()
    first = dlg.report.findings[0]
    assert first.kind == "leakage" and dlg.findings.currentRow() == 0
    assert dlg.fix_button.isVisible() and dlg.fix_button.text() == "Move each group to one split"
    assert dlg.images.count() == 2
    qtbot.waitUntil(lambda: not dlg.images.item(0).icon().isNull(), timeout=10000)
    assert "i0.png" in dlg.images.item(0).text() or "i12.png" in dlg.images.item(0).text()
    dlg.grab().save(str(tmp_path / "check.png"))
    with qtbot.waitSignal(window.bridge.job("check").finished, timeout=60000):
        dlg.fix_button.click()
    project = window.project
    assert {r.split for r in project.images()[0:1] + project.images()[12:13]} == {"train"}
    assert all(f.kind != "leakage" for f in dlg.report.findings)
    assert window.state.history.can_undo  # the move is undoable
    window.state.undo()
    assert project.images()[12].split == "valid"
    # the training labels, on request: no model yet, so the check says to train first
    dlg.training_labels.setChecked(True)
    with qtbot.waitSignal(window.bridge.job("check").finished, timeout=60000):
        dlg.rerun_button.click()
    kinds = {f.kind: f for f in dlg.report.findings}
    assert "training_labels" in kinds and "no model" in kinds["training_labels"].title


def test_check_can_be_cancelled(qtbot, tmp_path, monkeypatch):
    _leaky_project(tmp_path / "p").close()
    window = shown_main_window(qtbot)
    assert window.projects.open_project(str(tmp_path / "p"))
    window.bridge.submit("block", lambda job: job.control.check() or _wait(job))
    dlg = window.menus.check_action.open()
    assert "Busy" in dlg.status.text()
    with qtbot.waitSignal(window.bridge.job("block").cancelled, timeout=10000):
        window.bridge.cancel()
    import engine.check.checks as checks

    real = checks.run_check

    def slow_check(project, *, control=None, **kw):  # a check that outlasts the click
        _wait_for_cancel(control)
        return real(project, control=control, **kw)

    monkeypatch.setattr(checks, "run_check", slow_check)
    assert dlg.start()
    with qtbot.waitSignal(window.bridge.job("check").cancelled, timeout=60000):
        dlg.cancel_button.click()
    assert "cancelled" in dlg.status.text()


def _wait(job):
    _wait_for_cancel(job.control)


def _wait_for_cancel(control):
    import time

    while True:
        control.check()
        time.sleep(0.01)


def test_imbalance_fix_sets_the_training_setting_shown_on_the_train_page(qtbot, tmp_path):
    from engine.config import TrainConfig
    from gui.train.settings import SettingsPanel

    p = _leaky_project(tmp_path / "p")
    p.set_labels(p.query()[:11], ["a"])  # 11 a, 2 b
    p.close()
    window = shown_main_window(qtbot)
    assert window.projects.open_project(str(tmp_path / "p"))
    window._ensure_pages()
    panels = window.findChildren(SettingsPanel)
    assert panels and panels[0].balance.currentData() == "none"
    with qtbot.waitSignal(window.bridge.job("check").finished, timeout=60000):
        window.menus.check_action.action.trigger()
    dlg = window.menus.check_action.dialog
    kinds = [f.kind for f in dlg.report.findings]
    dlg.findings.setCurrentRow(kinds.index("imbalance"))
    assert dlg.fix_button.text() == "Use a class-weighted loss"
    with qtbot.waitSignal(window.bridge.job("check").finished, timeout=60000):
        dlg.fix_button.click()
    assert TrainConfig.from_dict(window.project.load_settings()).balance == "weighted_loss"
    assert panels[0].balance.currentData() == "weighted_loss"
    panels[0].epochs.setValue(panels[0].epochs.value() + 1)  # another edit keeps the setting
    assert window.project.load_settings()["balance"] == "weighted_loss"

"""The start page: demo project from a click, recent projects (missing ones marked and
removable), and the New project dialog's checks and task explanations."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from engine.project.store import Project
from gui.common import settings
from gui.start.page import TASK_TEXTS, NewProjectDialog, StartPage


@pytest.fixture
def page(qtbot):
    p = StartPage()
    qtbot.addWidget(p)
    p.resize(1100, 700)
    p.show()
    qtbot.waitExposed(p)
    return p


def test_first_launch_has_empty_state(page):
    assert page.recent_list.isHidden()
    assert page.empty_recent.isVisible()
    assert "No recent projects" in page.empty_recent.text()
    assert page.demo_button.isVisible() and "demo" in page.demo_button.accessibleName()
    tasks = [page.demo_variant.itemData(i) for i in range(page.demo_variant.count())]
    assert tasks[0] == "classification" and {"segmentation", "regression"} <= set(tasks)


def test_recent_projects_listed_missing_marked_and_removable(page, tmp_path, qtbot):
    Project.create(tmp_path / "alive", "classification").close()
    settings.add_recent(tmp_path / "gone")
    settings.add_recent(tmp_path / "alive")
    page.refresh()
    assert page.recent_paths() == [str(tmp_path / "alive"), str(tmp_path / "gone")]
    texts = [page.recent_list.item(i).text() for i in range(2)]
    assert "(missing)" not in texts[0] and "(missing)" in texts[1]
    assert page.forget_missing_button.isVisible()

    with qtbot.waitSignal(page.recent_requested) as sig:
        rect = page.recent_list.visualItemRect(page.recent_list.item(0))
        qtbot.mouseClick(page.recent_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sig.args == [str(tmp_path / "alive")]

    page.forget_missing_button.click()
    assert page.recent_paths() == [str(tmp_path / "alive")]
    assert settings.recent_projects() == [str(tmp_path / "alive")]
    page.remove_recent(str(tmp_path / "alive"))
    assert page.recent_list.isHidden() and page.empty_recent.isVisible()


def test_recent_list_is_capped_and_most_recent_first(tmp_path):
    for i in range(settings.MAX_RECENT + 3):
        settings.add_recent(tmp_path / f"p{i}")
    settings.add_recent(tmp_path / "p0")
    rec = settings.recent_projects()
    assert len(rec) == settings.MAX_RECENT
    assert rec[0] == str(tmp_path / "p0") and len(set(rec)) == len(rec)


def test_new_project_dialog_explains_tasks_and_checks_input(qtbot, tmp_path):
    dlg = NewProjectDialog(None, name="flowers")
    qtbot.addWidget(dlg)
    dlg.location_edit.setText(str(tmp_path))
    assert set(dlg.task_buttons) == set(TASK_TEXTS)
    for key, rb in dlg.task_buttons.items():
        assert TASK_TEXTS[key][1] in rb.text()  # a plain one-line explanation per task
    assert dlg.task == "classification" and dlg.problem() == ""
    assert dlg.path == tmp_path / "flowers"
    ok = dlg.buttons.buttons()[0]
    dlg.task_buttons["regression"].setChecked(True)
    assert not dlg.targets_row.isHidden()
    dlg.targets_edit.setText("age, weight")
    assert dlg.targets == ["age", "weight"]

    dlg.name_edit.setText("")
    assert "name" in dlg.problem() and not ok.isEnabled()
    Project.create(tmp_path / "taken", "classification").close()
    dlg.name_edit.setText("taken")
    assert "already holds a project" in dlg.problem()
    dlg.name_edit.setText("a/b")
    assert "cannot contain" in dlg.problem()


def test_demo_project_opens_from_the_start_page(qtbot, monkeypatch):
    import engine.project.demo

    real = engine.project.demo.create_demo_project
    calls = []

    def small_demo(path, task="classification", **kw):  # fewer images: the suite runs on 2 cores
        calls.append(task)
        return real(path, task=task, n=24, size=32)

    monkeypatch.setattr(engine.project.demo, "create_demo_project", small_demo)
    from gui.window.main_window import MainWindow

    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    sp = w.start_page
    sp.demo_variant.setCurrentIndex(sp.demo_variant.findData("classification"))
    qtbot.mouseClick(sp.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.project is not None, timeout=30000)
    p = w.project
    assert calls == ["classification"]
    assert p.task == "classification" and p.count() == 24
    assert p.class_names() and p.counts().unlabeled == 0
    assert Path(p.path).parent == settings.data_dir()
    assert w.stack.currentWidget() is w.tabs
    assert "24 images" in w.project_label.text()

    # the second request opens the same project instead of generating it again
    w.projects.close_project()
    qtbot.mouseClick(sp.demo_button, Qt.MouseButton.LeftButton)
    assert w.project is not None and calls == ["classification"]

    # the segmentation variant is its own project
    w.projects.close_project()
    sp.demo_variant.setCurrentIndex(sp.demo_variant.findData("segmentation"))
    qtbot.mouseClick(sp.demo_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.project is not None, timeout=30000)
    assert w.project.task == "segmentation"
    assert w.menus.import_actions[3].isEnabled()

"""Nothing is cut at the default 1280×800 or in a 1024-wide window: with the viewer open and
the mask editor on, every label, button, class chip and combo box shows its whole text on every
page (gui.common.elided lists what does not fit). Screenshots of each state are saved too."""

from __future__ import annotations

import pytest

from engine.project.demo import create_demo_project
from gui.common.elided import cut_widgets
from tests.support.qt import shown_main_window


@pytest.mark.parametrize("size", [(1280, 800), (1024, 768)])
@pytest.mark.parametrize("task", ["classification", "segmentation"])
def test_no_text_is_cut(qtbot, tmp_path, size, task):
    create_demo_project(tmp_path / "demo", task, n=8, size=48).close()
    w = shown_main_window(qtbot)
    w.resize(*size)
    assert w.projects.open_project(str(tmp_path / "demo"))
    data = w.data_page
    qtbot.waitUntil(lambda: data.model.rowCount() == 8, timeout=10000)
    data.open_viewer(data.model.index(0, 0))
    if task == "segmentation":
        data.viewer.editor.paint_button.click()  # the editor's tools, chips and hints
    qtbot.wait(200)
    problems = {}
    for i in range(w.tabs.count()):
        w.tabs.setCurrentIndex(i)
        qtbot.wait(150)
        w.grab().save(str(tmp_path / f"{task}_{size[0]}_{i}.png"))
        if cut := cut_widgets(w):
            problems[w.tabs.tabText(i)] = cut
    assert problems == {}

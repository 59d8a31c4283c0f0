"""The project's import plan as a user meets it: the split percentages and seed chosen in the
Re-split dialog are what the next import splits its new images by, and the dialog shows them
again next time (issue 21, part 3)."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gui.data.filter_bar import ResplitDialog
from tests.gui.test_import_drop import write_images
from tests.support.qt import shown_main_window


def _answer_resplit(valid: float, test: float, seed: int, seen: list) -> QTimer:
    """Fill in the Re-split dialog as soon as it shows (noting what it showed), then OK."""
    timer = QTimer()
    timer.setInterval(20)

    def poll() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, ResplitDialog) and w.isVisible():
                timer.stop()
                seen.append(w.values())
                w.valid.setValue(valid * 100)
                w.test.setValue(test * 100)
                w.seed.setValue(seed)
                w.accept()

    timer.timeout.connect(poll)
    timer.start()
    return timer


def _import(w, qtbot, folder) -> None:
    with qtbot.waitSignal(w.bridge.finished, timeout=30000):
        w.imports.import_paths([str(folder)])
    w.imports.report_dialog.close()


def test_resplit_choice_is_the_plan_the_next_import_follows(qtbot, tmp_path):
    w = shown_main_window(qtbot)
    w.projects.create_project(tmp_path / "proj", "classification")
    _import(w, qtbot, _classes(tmp_path / "first", 0))
    p = w.project
    assert p.counts().per_split == {"train": 8, "valid": 2}  # the default plan: 20 % valid

    seen: list = []
    answer = _answer_resplit(0.4, 0.0, 7, seen)
    w.data_page.edits.resplit()
    answer.stop()
    assert seen == [(0.2, 0.0, 42)]
    assert p.counts().per_split == {"train": 6, "valid": 4}

    _import(w, qtbot, _classes(tmp_path / "more", 100))
    new = p.images()[10:]
    assert len(new) == 10
    assert sum(r.split == "valid" for r in new) == 4  # split as the project's plan says: 40 %

    answer = _answer_resplit(0.4, 0.0, 7, seen)
    w.data_page.edits.resplit()
    answer.stop()
    assert seen[-1] == (0.4, 0.0, 7)  # the dialog shows the plan it set


def _classes(root, start: int):
    write_images(root / "cat", 5, start=start)
    write_images(root / "dog", 5, start=start + 50)
    return root


def test_the_import_flow_needs_no_window_and_hands_the_bridge_the_function(qtbot, tmp_path, bridge):
    """ImportFlow on a plain widget with the app state and the bridge: it says what it needs
    through signals, and the job it submits carries the importer itself and the plan."""
    from PySide6.QtWidgets import QWidget

    from engine.imports.api import import_paths
    from engine.imports.plan import ImportPlan, save_plan
    from engine.project.store import Project
    from gui.imports.flow import ImportFlow
    from gui.jobs.imports import run_import
    from gui.state import AppState

    parent = QWidget()
    qtbot.addWidget(parent)
    state = AppState()
    made: list = []
    flow = ImportFlow(parent, state, bridge, create_project=lambda *a: made.append(a) or False)
    said: list = []
    flow.message.connect(lambda title, text: said.append(title))
    assert not flow.import_paths([str(tmp_path)]) and said == ["No project open"]

    p = Project.create(tmp_path / "p", "classification")
    save_plan(p, ImportPlan(valid_pct=0.4, seed=7))
    state.set_project(p)
    submitted: list = []
    real_submit = bridge.submit
    bridge.submit = lambda name, fn, *a, **kw: (
        submitted.append((fn, a, kw)) or real_submit(name, fn, *a, **kw)
    )
    lines: list = []
    flow.status_message.connect(lines.append)
    with qtbot.waitSignal(flow.ended, timeout=30000):
        assert flow.import_paths([str(_classes(tmp_path / "src", 0))])
    ((fn, args, kwargs),) = submitted
    assert fn is run_import and args[:2] == (p, import_paths)
    assert kwargs["plan"] == ImportPlan(valid_pct=0.4, seed=7)
    assert lines == ["Added 10 images. Edit ▸ Undo (Ctrl+Z) takes the whole import out again."]
    assert p.counts().per_split == {"train": 6, "valid": 4}
    flow.report_dialog.close()
    state.set_project(None)
    p.close()

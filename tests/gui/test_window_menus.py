"""The menu bar's helpers built alone, on a plain widget's menu bar with the app state and a fake
bridge (no main window): Menus' actions exist with their shortcuts and ask for what they do by
signals (Undo and Redo go to the state); ExportAction, CheckAction and AppearanceMenu take the
menu, state, bridge and parent they use (issue 21)."""

from __future__ import annotations

from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from gui.common import settings
from gui.state import AppState
from gui.window.appearance import AppearanceMenu
from gui.window.check_action import CheckAction
from gui.window.export_action import ExportAction
from gui.window.menus import Menus
from tests.support.projects import make_labeled_project
from tests.support.qt import FakeBridge


def _parent(qtbot) -> QWidget:
    w = QWidget()
    qtbot.addWidget(w)
    return w


def _menus(qtbot):
    parent = _parent(qtbot)
    bar = QMenuBar(parent)
    state, messages = AppState(), []
    menus = Menus(bar, state, FakeBridge(), parent, lambda *a, **k: messages.append(a))
    return menus, bar, state, messages


def _keys(action) -> list[str]:
    return [k.toString() for k in action.shortcuts()]


def test_menus_have_their_actions_and_shortcuts_and_ask_by_signal(qtbot):
    menus, bar, _state, _ = _menus(qtbot)
    assert [a.text() for a in bar.actions()] == ["&File", "&Edit", "&View", "&Tools", "&Help"]
    assert "Ctrl+N" in _keys(menus.act_new) and "Ctrl+O" in _keys(menus.act_open)
    assert _keys(menus.import_actions[0]) == ["Ctrl+I"]
    assert "Ctrl+W" in _keys(menus.act_close)
    assert _keys(menus.act_undo) == ["Ctrl+Z"]
    assert _keys(menus.act_redo) == ["Ctrl+Shift+Z", "Ctrl+Y"]
    assert "F1" in _keys(menus.act_help)
    asked: list[str] = []
    for action, signal in (
        (menus.act_new, menus.new_requested),
        (menus.act_open, menus.open_requested),
        (menus.import_actions[0], menus.import_images_requested),
        (menus.import_actions[1], menus.import_csv_requested),
        (menus.import_actions[2], menus.import_regex_requested),
        (menus.import_actions[3], menus.import_segmentation_requested),
        (menus.act_close, menus.close_requested),
        (menus.act_remove, menus.remove_requested),
        (menus.act_help, menus.help_requested),
    ):
        text = action.text()
        signal.connect(lambda t=text: asked.append(t))
        action.trigger()
    quit_ = next(a for a in bar.actions()[0].menu().actions() if a.text() == "&Quit")
    menus.quit_requested.connect(lambda: asked.append("quit"))
    quit_.trigger()
    assert asked == [
        "&New project…",
        "&Open project…",
        "&Import images or folder…",
        "Import &CSV labels…",
        "Import labels from &file names (regex)…",
        "Import &segmentation images + masks…",
        "&Close project",
        "Re&move from project…\tDel",
        "&Ideas and shortcuts",
        "quit",
    ]


def test_menus_enable_for_the_project_and_undo_through_the_state(qtbot, tmp_path):
    menus, _bar, state, _ = _menus(qtbot)
    menus.update_actions(can_remove=True)
    assert not any(a.isEnabled() for a in menus.import_actions)
    assert not menus.act_close.isEnabled() and not menus.act_remove.isEnabled()
    p = make_labeled_project(tmp_path / "p", n=2)
    state.set_project(p)
    menus.update_actions(can_remove=False)
    assert [a.isEnabled() for a in menus.import_actions] == [True, True, True, False]
    assert menus.act_close.isEnabled() and not menus.act_remove.isEnabled()
    assert not menus.act_undo.isEnabled()
    first = p.query()[0]
    state.edit(lambda h: h.set_labels([first], ["dog"]))
    menus.update_actions(can_remove=True)
    assert menus.act_remove.isEnabled() and menus.act_undo.isEnabled()
    assert menus.act_undo.text().startswith("&Undo ")
    menus.act_undo.trigger()
    assert p.image(first).labels == ()
    menus.update_actions(can_remove=True)
    assert menus.act_redo.isEnabled()
    menus.act_redo.trigger()
    assert p.image(first).labels == ("dog",)
    state.set_project(None)
    p.close()


def test_open_recent_lists_the_saved_projects_and_asks_for_one(qtbot, tmp_path):
    menus, *_ = _menus(qtbot)
    menus.fill_recent_menu()
    assert [a.text() for a in menus.recent_menu.actions()] == ["(none yet)"]
    make_labeled_project(tmp_path / "birds", n=1).close()
    settings.add_recent(tmp_path / "birds")
    settings.add_recent(tmp_path / "moved-away")
    menus.fill_recent_menu()
    acts = menus.recent_menu.actions()
    assert [a.isEnabled() for a in acts] == [False, True]  # the newest first; a missing one grey
    asked: list[str] = []
    menus.recent_requested.connect(asked.append)
    acts[1].trigger()
    assert asked == [str(tmp_path / "birds")]


def test_export_action_takes_its_menu_state_bridge_and_messages(qtbot, tmp_path):
    parent, state, bridge, said = _parent(qtbot), AppState(), FakeBridge(), []
    menu = QMenu(parent)
    act = ExportAction(menu, state, bridge, parent, lambda *a, **k: said.append(a))
    assert act.action in menu.actions() and not act.action.isEnabled()
    p = make_labeled_project(tmp_path / "p", n=1)
    state.set_project(p)
    assert not act.action.isEnabled()  # no trained model
    act.start()
    assert said[-1][0] == "No trained model" and not bridge.submitted
    bridge.job("export").failed.emit("Cannot write to the output folder /x")
    assert said[-1] == ("The model could not be exported", "Cannot write to the output folder /x")
    state.set_project(None)
    p.close()


def test_check_action_opens_one_dialog_on_its_parent(qtbot, tmp_path, monkeypatch):
    import gui.check.dialog as dialog

    made: list = []

    class FakeDialog:
        def __init__(self, bridge, state, parent):
            made.append((bridge, state, parent))
            self.report, self.started, self.closed = None, 0, 0
            self.findings = self

        def show(self):
            pass

        def raise_(self):
            pass

        def start(self):
            self.started += 1

        def clear(self):
            pass

        def close(self):
            self.closed += 1

    monkeypatch.setattr(dialog, "CheckDialog", FakeDialog)
    parent, state, bridge = _parent(qtbot), AppState(), FakeBridge()
    menu = QMenu(parent)
    act = CheckAction(menu, state, bridge, parent)
    assert act.action in menu.actions() and not act.action.isEnabled()
    assert act.open() is None
    p = make_labeled_project(tmp_path / "p", n=1)
    state.set_project(p)
    assert act.action.isEnabled()
    act.action.trigger()
    assert made == [(bridge, state, parent)] and act.dialog.started == 1
    assert act.open() is act.dialog and len(made) == 1  # reused
    state.set_project(None)
    assert act.dialog.closed == 1 and not act.action.isEnabled()
    p.close()


def test_appearance_menu_adds_its_choices_to_the_menu(qtbot):
    from gui import theme

    parent = _parent(qtbot)
    menu = QMenu(parent)
    appearance = AppearanceMenu(menu, parent)
    (sub,) = [a.menu() for a in menu.actions()]
    assert sub.title() == "&Appearance"
    assert [a.text() for a in sub.actions()] == list(theme.CHOICES.values())
    assert appearance.actions["system"].isChecked()
    try:
        assert appearance.choose("dark") == "dark" and appearance.actions["dark"].isChecked()
        assert not appearance.actions["system"].isChecked()
    finally:
        appearance.choose("system")

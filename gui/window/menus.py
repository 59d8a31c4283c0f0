"""The main window's menu bar (File, Edit, Help), the recent-projects submenu and the rule for
which actions are enabled. Kept apart so MainWindow only assembles panels."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QWidget

from gui.common import settings
from gui.window.appearance import AppearanceMenu
from gui.window.check_action import CheckAction
from gui.window.export_action import ExportAction


def add_action(window: QMainWindow, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    """A QAction owned by `window`, added to `menu` and connected to `slot`."""
    act = QAction(text, window)
    if isinstance(shortcut, QKeySequence.StandardKey):
        act.setShortcuts(shortcut)  # every binding (Close: Ctrl+W and Ctrl+F4), not the first
    elif shortcut is not None:
        act.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
    if tip:
        act.setStatusTip(tip)
    act.triggered.connect(slot)
    menu.addAction(act)
    return act


def build_menus(window) -> None:
    """Fill the window's menu bar; sets act_new, act_open, recent_menu, import_actions,
    act_close, act_undo and act_redo on `window`."""
    mb = window.menuBar()
    f = mb.addMenu("&File")
    window.act_new = add_action(
        window, f, "&New project…", window.projects.new_project, QKeySequence.StandardKey.New
    )
    window.act_open = add_action(
        window, f, "&Open project…", window.projects.choose_project, QKeySequence.StandardKey.Open
    )
    window.recent_menu = f.addMenu("Open &recent")
    window.recent_menu.aboutToShow.connect(lambda: fill_recent_menu(window))
    f.addSeparator()
    imp = window.imports
    window.import_actions = [
        add_action(
            window,
            f,
            "&Import images or folder…",
            imp.import_images_dialog,
            QKeySequence("Ctrl+I"),
            "Copy images into the project",
        ),
        add_action(
            window,
            f,
            "Import &CSV labels…",
            imp.import_csv_dialog,
            tip="Images plus a CSV file naming each image's label",
        ),
        add_action(
            window,
            f,
            "Import labels from &file names (regex)…",
            imp.import_regex_dialog,
            tip="Take each image's label from its file name",
        ),
        add_action(
            window,
            f,
            "Import &segmentation images + masks…",
            imp.import_segmentation_dialog,
            tip="A folder of images and a folder of masks with the same names",
        ),
    ]
    f.addSeparator()
    window.export_action = ExportAction(window, f)  # File > Export model…
    f.addSeparator()
    window.act_close = add_action(
        window, f, "&Close project", window.projects.close_project, QKeySequence.StandardKey.Close
    )
    f.addSeparator()
    add_action(window, f, "&Quit", window.close, QKeySequence.StandardKey.Quit)

    e = mb.addMenu("&Edit")
    window.act_undo = add_action(window, e, "&Undo", window.undo, QKeySequence("Ctrl+Z"))
    window.act_redo = add_action(
        window, e, "&Redo", window.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
    )
    e.addSeparator()
    window.act_remove = add_action(
        window,
        e,
        "Re&move from project…\tDel",
        lambda: window.data_page.edits.remove_selected(),
        tip="Take the selected images out of the project (your original files are not touched)",
    )
    e.aboutToShow.connect(window._update_actions)

    v = mb.addMenu("&View")
    window.appearance = AppearanceMenu(window, v)  # View > Appearance: system / light / dark

    t = mb.addMenu("&Tools")
    window.check_action = CheckAction(window, t)  # Tools > Check data…

    h = mb.addMenu("&Help")
    window.act_help = add_action(
        window, h, "&Ideas and shortcuts", window.show_help, QKeySequence.StandardKey.HelpContents
    )
    h.addSeparator()
    add_action(window, h, "&About Topdown", window.about)


def fill_recent_menu(window) -> None:
    """Rebuild File > Open recent from the saved list (missing folders greyed out)."""
    window.recent_menu.clear()
    recents = settings.recent_projects()
    for path in recents:
        act = window.recent_menu.addAction(f"{Path(path).name}   {path}")
        act.setEnabled(Path(path, "project.json").is_file())
        act.triggered.connect(lambda _=False, p=path: window.projects.open_project(p))
    if not recents:
        window.recent_menu.addAction("(none yet)").setEnabled(False)


def update_actions(window, history) -> None:
    """Enable the import, close and undo/redo actions for the open project and its history."""
    project = window.project
    has = project is not None
    seg = has and project.task == "segmentation"
    images, csv_labels, regex, masks = window.import_actions
    images.setEnabled(has)
    csv_labels.setEnabled(has and not seg)
    regex.setEnabled(has and not seg)
    masks.setEnabled(seg)
    window.act_close.setEnabled(has)
    page = getattr(window, "data_page", None)
    window.act_remove.setEnabled(bool(has and page is not None and page.edits.selected_ids()))
    h = history
    can_undo, can_redo = bool(h and h.can_undo), bool(h and h.can_redo)
    window.act_undo.setEnabled(can_undo)
    window.act_redo.setEnabled(can_redo)
    window.act_undo.setText(f"&Undo {h.undo_text}" if can_undo else "&Undo")
    window.act_redo.setText(f"&Redo {h.redo_text}" if can_redo else "&Redo")


def show_about(parent: QWidget) -> None:
    """Help > About."""
    QMessageBox.about(
        parent,
        "About Topdown",
        "<b>Topdown 0.1.0</b><br>Practical deep learning, top-down: label your images, "
        "fine-tune a pretrained network, watch it learn, see where it is wrong.<br><br>"
        "Built on PyTorch, torchvision and Qt (PySide6).",
    )

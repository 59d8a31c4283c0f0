"""The main window's menu bar (File, Edit, View, Tools, Help), the recent-projects submenu and
the rule for which actions are enabled. Kept apart so MainWindow only assembles panels.

`Menus` takes the menu bar to fill, the app state, the bridge, a parent for its actions and
dialogs, and `show_message(title, text)`; what belongs to the window or a page (opening a
project, importing, removing images, help, quitting) it asks for with signals, which the window
connects. Undo and Redo go to the state, About is its own box.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QMessageBox, QWidget

from gui.common import settings
from gui.window.appearance import AppearanceMenu
from gui.window.check_action import CheckAction
from gui.window.export_action import ExportAction

if TYPE_CHECKING:
    from gui.bridge import EngineBridge
    from gui.state import AppState


def add_action(owner: QObject, menu, text: str, slot, shortcut=None, tip: str = "") -> QAction:
    """A QAction owned by `owner`, added to `menu` and connected to `slot`."""
    act = QAction(text, owner)
    if isinstance(shortcut, QKeySequence.StandardKey):
        act.setShortcuts(shortcut)  # every binding (Close: Ctrl+W and Ctrl+F4), not the first
    elif shortcut is not None:
        act.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
    if tip:
        act.setStatusTip(tip)
    act.triggered.connect(slot)
    menu.addAction(act)
    return act


class Menus(QObject):
    """The menu bar's menus and actions (`act_new`, `act_open`, `recent_menu`,
    `import_actions`, `act_close`, `act_undo`, `act_redo`, `act_remove`, `act_help`, and the
    `export_action`, `check_action` and `appearance` helpers).

    Signals, one per request the window carries out: `new_requested`, `open_requested`,
    `recent_requested(path)`, `import_images_requested`, `import_csv_requested`,
    `import_regex_requested`, `import_segmentation_requested`, `close_requested`,
    `quit_requested`, `remove_requested` (the Data page's selected images) and `help_requested`.
    """

    new_requested = Signal()
    open_requested = Signal()
    recent_requested = Signal(str)
    import_images_requested = Signal()
    import_csv_requested = Signal()
    import_regex_requested = Signal()
    import_segmentation_requested = Signal()
    close_requested = Signal()
    quit_requested = Signal()
    remove_requested = Signal()
    help_requested = Signal()

    def __init__(
        self,
        bar: QMenuBar,
        state: AppState,
        bridge: EngineBridge,
        parent: QWidget,
        show_message: Callable[..., object],
    ):
        super().__init__(parent)
        self.state = state
        self._parent = parent
        f = bar.addMenu("&File")
        self.act_new = add_action(
            parent, f, "&New project…", self.new_requested, QKeySequence.StandardKey.New
        )
        self.act_open = add_action(
            parent, f, "&Open project…", self.open_requested, QKeySequence.StandardKey.Open
        )
        self.recent_menu = f.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self.fill_recent_menu)
        f.addSeparator()
        self.import_actions = [
            add_action(
                parent,
                f,
                "&Import images or folder…",
                self.import_images_requested,
                QKeySequence("Ctrl+I"),
                "Copy images into the project",
            ),
            add_action(
                parent,
                f,
                "Import &CSV labels…",
                self.import_csv_requested,
                tip="Images plus a CSV file naming each image's label",
            ),
            add_action(
                parent,
                f,
                "Import labels from &file names (regex)…",
                self.import_regex_requested,
                tip="Take each image's label from its file name",
            ),
            add_action(
                parent,
                f,
                "Import &segmentation images + masks…",
                self.import_segmentation_requested,
                tip="A folder of images and a folder of masks with the same names",
            ),
        ]
        f.addSeparator()
        self.export_action = ExportAction(f, state, bridge, parent, show_message)
        f.addSeparator()
        self.act_close = add_action(
            parent, f, "&Close project", self.close_requested, QKeySequence.StandardKey.Close
        )
        f.addSeparator()
        add_action(parent, f, "&Quit", self.quit_requested, QKeySequence.StandardKey.Quit)

        self.edit_menu = e = bar.addMenu("&Edit")  # the window updates it before it shows
        self.act_undo = add_action(parent, e, "&Undo", state.undo, QKeySequence("Ctrl+Z"))
        self.act_redo = add_action(
            parent, e, "&Redo", state.redo, [QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")]
        )
        e.addSeparator()
        self.act_remove = add_action(
            parent,
            e,
            "Re&move from project…\tDel",
            self.remove_requested,
            tip="Take the selected images out of the project (your original files are not touched)",
        )

        v = bar.addMenu("&View")
        self.appearance = AppearanceMenu(v, parent)  # View > Appearance: system / light / dark

        t = bar.addMenu("&Tools")
        self.check_action = CheckAction(t, state, bridge, parent)  # Tools > Check data…

        h = bar.addMenu("&Help")
        self.act_help = add_action(
            parent,
            h,
            "&Ideas and shortcuts",
            self.help_requested,
            QKeySequence.StandardKey.HelpContents,
        )
        h.addSeparator()
        add_action(parent, h, "&About Topdown", self.about)

    @Slot()
    def fill_recent_menu(self) -> None:
        """Rebuild File > Open recent from the saved list (missing folders greyed out)."""
        menu: QMenu = self.recent_menu
        menu.clear()
        recents = settings.recent_projects()
        for path in recents:
            act = menu.addAction(f"{Path(path).name}   {path}")
            act.setEnabled(Path(path, "project.json").is_file())
            act.triggered.connect(lambda _=False, p=path: self.recent_requested.emit(p))
        if not recents:
            menu.addAction("(none yet)").setEnabled(False)

    def update_actions(self, can_remove: bool) -> None:
        """Enable the import, close, remove (`can_remove`: images are selected) and undo/redo
        actions for the state's project and its history."""
        project = self.state.project
        has = project is not None
        seg = has and project.task == "segmentation"
        images, csv_labels, regex, masks = self.import_actions
        images.setEnabled(has)
        csv_labels.setEnabled(has and not seg)
        regex.setEnabled(has and not seg)
        masks.setEnabled(seg)
        self.act_close.setEnabled(has)
        self.act_remove.setEnabled(bool(has and can_remove))
        h = self.state.history
        can_undo, can_redo = bool(h and h.can_undo), bool(h and h.can_redo)
        self.act_undo.setEnabled(can_undo)
        self.act_redo.setEnabled(can_redo)
        self.act_undo.setText(f"&Undo {h.undo_text}" if can_undo else "&Undo")
        self.act_redo.setText(f"&Redo {h.redo_text}" if can_redo else "&Redo")

    @Slot()
    def about(self) -> None:
        """Help > About."""
        show_about(self._parent)


def show_about(parent: QWidget) -> None:
    """Help > About."""
    QMessageBox.about(
        parent,
        "About Topdown",
        "<b>Topdown 0.1.0</b><br>Practical deep learning, top-down: label your images, "
        "fine-tune a pretrained network, watch it learn, see where it is wrong.<br><br>"
        "Built on PyTorch, torchvision and Qt (PySide6).",
    )

"""The Data page's editing actions: labelling by class, key or value, moving splits,
re-splitting, removing images, and the right-click and split menus offering them.

`DataActions` takes the app state, the image grid whose selection it edits and a parent for its
dialogs; it says what it did through signals, which the Data page connects (`page.edits`).
Every change goes through the app state's undo history (gui.state.AppState.edit), so Ctrl+Z
undoes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QPoint, Signal, Slot
from PySide6.QtWidgets import QDialog, QMenu, QMessageBox, QWidget

from engine.project.records import SPLITS
from gui.data.class_panel import UNLABELED
from gui.data.filter_bar import ResplitDialog

if TYPE_CHECKING:
    from gui.data.browser import ImageBrowser
    from gui.state import AppState


class DataActions(QObject):
    """Edits of the state's project, on the images selected in `browser`.

    Signals: `message(text)`, what was done or why not (the status bar); `open_requested()`,
    the right-click menu's Open (the grid's current image); `removing(ids)`, these images are
    about to leave the project; `removed(ids)`, they left (the grid should re-query now, so the
    cursor stays on the next image).
    """

    message = Signal(str)
    open_requested = Signal()
    removing = Signal(list)
    removed = Signal(list)

    def __init__(self, state: AppState, browser: ImageBrowser, parent: QWidget):
        super().__init__(parent)
        self.state, self.browser = state, browser
        self._parent = parent  # for dialogs and menus

    @property
    def project(self):
        return self.state.project

    # ------------------------------------------------------------------ labelling
    def selected_ids(self) -> list[int]:
        return self.browser.selected_ids()

    def _edit(self, change, done: str) -> None:
        """Make one undoable change, `change(history)`; keep the cursor on the next image when
        rows leave the view."""
        from engine.project.store import ProjectError

        if self.state.history is None:
            return
        model = self.browser.model()
        row = min((i.row() for i in self.browser.selectionModel().selectedIndexes()), default=-1)
        n = model.rowCount()
        try:
            self.state.edit(change)
        except ProjectError as e:
            self.message.emit(str(e))
            return
        if row >= 0 and model.rowCount() < n:  # labelled rows left the filter
            nxt = model.index(min(row, model.rowCount() - 1))
            if nxt.isValid():
                self.browser.setCurrentIndex(nxt)
        self.message.emit(done)

    def apply_class(self, name: str, ids: list[int]) -> None:
        """Label `ids` with class `name` ("" unlabels); multi-label toggles that label."""
        task = self.project.task if self.project else ""
        if not ids or task in ("regression", "segmentation"):
            return
        if name == UNLABELED:
            self._edit(lambda h: h.set_labels(ids, []), f"Unlabelled {len(ids):,} images")
        elif task == "multilabel":
            recs = self.project.images(ids)
            on = not all(name in r.labels for r in recs)
            verb = "Added" if on else "Removed"
            self._edit(
                lambda h: h.toggle_label(ids, name, on), f"{verb} {name} on {len(ids):,} images"
            )
        else:
            self._edit(
                lambda h: h.set_labels(ids, [name]), f"Labelled {len(ids):,} images as {name}"
            )

    def label_with_key(self, n: int) -> None:
        if self.project is None:
            return
        if self.project.task == "regression":
            self.message.emit("Regression: type the value in the panel on the left.")
            return
        if self.project.task == "segmentation":
            self.message.emit("Segmentation labels are masks; keys do not change them.")
            return
        names = self.project.class_names()
        if n > len(names):
            self.message.emit(f"There is no class {n}; create it with + first.")
            return
        self.apply_class(names[n - 1], self.selected_ids())

    def unlabel_selected(self) -> None:
        if self.project is None or not self.selected_ids():
            return
        if self.project.task == "regression":
            self.apply_values(None)
        elif self.project.task != "segmentation":
            self.apply_class(UNLABELED, self.selected_ids())

    def apply_values(self, values: list[float] | None) -> None:
        ids = self.selected_ids()
        if not ids:
            self.message.emit("Select the images to set first.")
            return
        text = "cleared" if values is None else ", ".join(f"{v:g}" for v in values)
        self._edit(lambda h: h.set_values(ids, values), f"Value of {len(ids):,} images: {text}")

    def move_selected_to(self, split: str) -> None:
        ids = self.selected_ids()
        if ids:
            self._edit(lambda h: h.set_split(ids, split), f"Moved {len(ids):,} images to {split}")

    def resplit(self) -> None:
        """Ask for percentages and seed (the project's import plan), then re-assign the
        automatic splits; the plan becomes what later imports split by."""
        from engine.imports.plan import project_plan

        if self.project is None:
            return
        plan = project_plan(self.project)
        dlg = ResplitDialog(self._parent, plan.valid_pct, plan.test_pct, plan.seed)
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return
        self.resplit_with(*dlg.values())

    def resplit_with(self, valid_pct: float, test_pct: float, seed: int) -> None:
        from engine.imports.plan import ImportPlan, resplit
        from engine.project.store import ProjectError

        try:
            resplit(self.project, ImportPlan(valid_pct, test_pct, seed))
        except ProjectError as e:
            QMessageBox.warning(self._parent, "Re-split", str(e))
            return
        c = self.project.counts().per_split
        self.message.emit("Re-split: " + ", ".join(f"{c.get(s, 0):,} {s}" for s in SPLITS))

    # ------------------------------------------------------------------ removing
    def remove_selected(self) -> None:
        """Delete key / "Remove from project…": after a confirm, take the selected images out
        of the project (their copies, masks, thumbnails; undoable). Originals stay."""
        ids = self.selected_ids()
        if self.project is None or self.state.history is None:
            return
        if not ids:
            self.message.emit("Select the images to remove first.")
            return
        if not self.confirm_remove(len(ids)):
            return
        self.removing.emit(ids)
        n = f"{len(ids):,} image{'s' if len(ids) != 1 else ''}"
        self._edit(
            lambda history: (history.remove_images(ids), self.removed.emit(ids)),
            f"Removed {n} from the project (Ctrl+Z brings them back)",
        )

    def remove_box(self, n: int) -> QMessageBox:
        """The confirm for removing `n` images (its Remove button is the default)."""
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Remove from project")
        box.setText(f"Remove {n:,} image{'s' if n != 1 else ''} from the project?")
        box.setInformativeText(
            "The project's copies, their masks and thumbnails are removed. Your original "
            "files are not touched. Edit > Undo (Ctrl+Z) brings them back."
        )
        box.setDefaultButton(box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole))
        box.addButton(QMessageBox.StandardButton.Cancel)
        return box

    def confirm_remove(self, n: int) -> bool:
        box = self.remove_box(n)
        box.exec()
        return box.clickedButton() is box.defaultButton()

    # ------------------------------------------------------------------ menus
    def split_menu(self, menu: QMenu) -> QMenu:
        """Fill `menu` with the split moves and Re-split (the page's Split button)."""
        for s in SPLITS:
            menu.addAction(f"Move to {s}", lambda s=s: self.move_selected_to(s))
        menu.addSeparator()
        menu.addAction("Re-split automatically…", self.resplit)
        return menu

    def build_context_menu(self) -> QMenu | None:
        """The grid's right-click menu for the current selection."""
        if self.project is None:
            return None
        menu = QMenu(self._parent)
        if self.selected_ids():
            menu.addAction("Open", self.open_requested.emit)
            if self.project.task in ("classification", "multilabel"):
                sub = menu.addMenu("Label as")
                for k, n in enumerate(self.project.class_names()):
                    key = f"\t{k + 1}" if k < 9 else ""
                    sub.addAction(f"{n}{key}", lambda n=n: self.apply_class(n, self.selected_ids()))
                menu.addAction("Unlabel\t0", self.unlabel_selected)
            menu.addSeparator()
            menu.addAction("Remove from project…\tDel", self.remove_selected)
            menu.addSeparator()
        self.split_menu(menu)
        return menu

    @Slot(QPoint)
    def show_context_menu(self, pos: QPoint) -> None:
        """The grid's right-click at `pos` (in its viewport)."""
        menu = self.build_context_menu()
        if menu is not None:
            menu.exec(self.browser.viewport().mapToGlobal(pos))

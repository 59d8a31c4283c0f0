"""The Data page's "Label next" (key N): open the unlabeled image the trained model is least
sure of, so labelling goes label, N, label, N. The ranking is gui.data.uncertain's (computed on
the worker thread with progress, kept while the model and the images stay the same, so the next
press is instant; images labelled meanwhile are skipped). Classification and multi-label: the
grid's cursor moves to the image and the viewer shows it, so keys 1-9 label it; segmentation:
the image opens in the mask editor. Without a model it says to train first.

`LabelNext` takes the app state, the sort whose ranking it follows and the widget its key
works in; it asks for the image to open and says what it did through signals, which the Data
page connects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QWidget

from gui.common.model_in_use import model_key
from gui.data.uncertain import TRAIN_FIRST, UncertainSort

if TYPE_CHECKING:
    from gui.state import AppState

KEY = "N"
TASKS = ("classification", "multilabel", "segmentation")  # uncertainty needs class scores


class LabelNext(QObject):
    """The button and shortcut; `trigger()` goes to the next image (ranking first if needed).

    Signals: `open_image(image_id)`, show that image to be labelled (in the mask editor for
    segmentation); `message(short, full)`, what happened: `short` for the page's count label
    (with `full` as its tooltip when they differ), `full` for the status bar;
    `train_first(text)`, there is no model yet (the page offers the Train page).
    """

    open_image = Signal(int)
    message = Signal(str, str)
    train_first = Signal(str)

    def __init__(self, state: AppState, sort: UncertainSort, shortcut_parent: QWidget):
        super().__init__(shortcut_parent)
        self.state, self.sort = state, sort
        self.last: tuple[int, float] | None = None  # the image chosen last, with its score
        self.button = QPushButton("Label next")
        self.button.setToolTip(
            f"Open the unlabeled image the trained model is least sure of ({KEY}): "
            "labelling it teaches the model the most"
        )
        self.button.clicked.connect(self.trigger)
        self.shortcut = QShortcut(QKeySequence(KEY), shortcut_parent)
        self.shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.shortcut.activated.connect(self.trigger)
        state.project_changed.connect(self._show_project)
        self._show_project(state.project)

    @Slot(object)
    def _show_project(self, project) -> None:
        """Offered where an uncertainty exists: not for regression (nor without a project)."""
        on = project is not None and project.task in TASKS
        self.button.setVisible(on)
        self.shortcut.setEnabled(on)

    def _say(self, text: str) -> None:
        self.message.emit(text, text)

    @Slot()
    def trigger(self) -> bool:
        """Go to the most uncertain unlabeled image; False when there is none to go to now."""
        p = self.state.project
        if p is None or p.task not in TASKS:
            return False
        if self.sort.running:
            self._say("The model is still ranking the images; a moment.")
            return False
        if model_key(p) is None:
            text = TRAIN_FIRST.replace("ranks the images", "picks the image to label next")
            self._say(text)
            self.train_first.emit(text)
            return False
        if not p.query(unlabeled=True):
            if p.count() == 0:
                self._say("No images yet: import some to label.")
            else:
                self._say("Every image has a mask." if p.task == "segmentation" else
                          "Every image is labelled.")  # fmt: skip
            return False
        if self.sort.fresh() and self.go():
            return True
        return self.sort.start(then=self.go)  # rank first (with progress); go() when done

    def next_id(self) -> tuple[int, float] | None:
        """The first image of the ranking that is still unlabeled, with its uncertainty."""
        open_ids = set(self.state.project.query(unlabeled=True))
        return next(((i, s) for i, s in self.sort.ranking if i in open_ids), None)

    def go(self) -> bool:
        """Ask for the next image (in the mask editor for segmentation) and say why it."""
        nxt = self.next_id()
        if nxt is None:
            self._say("The model ranked every unlabeled image; none is left to label.")
            return False
        self.last = nxt
        iid, score = nxt
        p = self.state.project
        self.open_image.emit(iid)
        recs = p.images([iid])
        name = recs[0].name if recs else f"image {iid}"
        if p.task == "segmentation":
            what = "paint its mask"
        else:
            what = "press its class number"  # keys 1-9 label the image under the cursor
        full = (
            f"Label next: {name}, where the model is least sure (uncertainty {score:.2f} "
            f"of 1). {what.capitalize()}, then press {KEY} for the next."
        )
        self.message.emit(f"Next: uncertainty {score:.2f}", full)  # short: the bar stays narrow
        return True

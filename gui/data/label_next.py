"""The Data page's "Label next" (key N): open the unlabeled image the trained model is least
sure of, so labelling goes label, N, label, N. The ranking is gui.data.uncertain's (computed on
the worker thread with progress, kept while the model and the images stay the same, so the next
press is instant; images labelled meanwhile are skipped). Classification and multi-label: the
grid's cursor moves to the image and the viewer shows it, so keys 1-9 label it; segmentation:
the image opens in the mask editor. Without a model it says to train first."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton

from gui.common.model_in_use import model_key
from gui.data.uncertain import TRAIN_FIRST, offer_training

KEY = "N"
TASKS = ("classification", "multilabel", "segmentation")  # uncertainty needs class scores


class LabelNext(QObject):
    """The button and shortcut; `trigger()` goes to the next image (ranking first if needed)."""

    def __init__(self, page, sort):
        super().__init__(page)
        self.page, self.sort = page, sort
        self.last: tuple[int, float] | None = None  # the image chosen last, with its score
        self.button = QPushButton("Label next")
        self.button.setToolTip(
            f"Open the unlabeled image the trained model is least sure of ({KEY}): "
            "labelling it teaches the model the most"
        )
        self.button.clicked.connect(self.trigger)
        self.shortcut = QShortcut(QKeySequence(KEY), page)
        self.shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.shortcut.activated.connect(self.trigger)
        page.state.project_changed.connect(self._show_project)
        self._show_project(page.state.project)

    @Slot(object)
    def _show_project(self, project) -> None:
        """Offered where an uncertainty exists: not for regression (nor without a project)."""
        on = project is not None and project.task in TASKS
        self.button.setVisible(on)
        self.shortcut.setEnabled(on)

    def _say(self, text: str) -> None:
        self.page.filters.count.setText(text)
        self.page.status_message.emit(text)

    @Slot()
    def trigger(self) -> bool:
        """Go to the most uncertain unlabeled image; False when there is none to go to now."""
        p = self.page.project
        if p is None or p.task not in TASKS:
            return False
        if self.sort.running:
            self._say("The model is still ranking the images; a moment.")
            return False
        if model_key(p) is None:
            text = TRAIN_FIRST.replace("ranks the images", "picks the image to label next")
            self._say(text)
            offer_training(self.page, text)
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
        p = self.page.project
        open_ids = set(p.query(unlabeled=True))
        return next(((i, s) for i, s in self.sort.ranked if i in open_ids), None)

    def go(self) -> bool:
        """Show the next image (in the mask editor for segmentation)."""
        nxt = self.next_id()
        if nxt is None:
            self._say("The model ranked every unlabeled image; none is left to label.")
            return False
        self.last = nxt
        page = self.page
        page.go_to_image(nxt[0])
        rec = page.viewer.record
        if page.project.task == "segmentation":
            page.viewer.editor.set_painting(True)
            page.viewer.setFocus()
            what = "paint its mask"
        else:
            page.browser.setFocus()  # keys 1-9 label the image under the cursor
            what = "press its class number"
        name = rec.name if rec is not None else f"image {nxt[0]}"
        full = (
            f"Label next: {name}, where the model is least sure (uncertainty {nxt[1]:.2f} "
            f"of 1). {what.capitalize()}, then press {KEY} for the next."
        )
        self.page.filters.count.setText(f"Next: uncertainty {nxt[1]:.2f}")
        self.page.filters.count.setToolTip(full)  # the short text keeps the filter bar narrow
        self.page.status_message.emit(full)
        return True

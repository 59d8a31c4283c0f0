"""The Data page's "Most uncertain first" sort: the trained model ranks the unlabeled images on
the worker thread (engine.interpret.uncertainty, JobName.RANK); the grid then shows the unlabeled
images, the least certain first, so the next image to label is the top-left one. Without a
model it says to train first. The ranking is kept (for "Label next", gui.data.label_next) while
the model file and the project's images stay the same; labelling does not change the model's
scores, so labelled images are only skipped. While it runs, the button stops it.

`UncertainSort` takes the app state, the bridge and a parent; it says what the page should show
through signals (`message`, `train_first`, `ranked`), which the Data page connects."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from engine.events import Progress
from gui.common.model_in_use import model_key
from gui.jobs.names import JobName

if TYPE_CHECKING:
    from gui.bridge import EngineBridge
    from gui.state import AppState

SORT_TEXT = "Most uncertain first"
TRAIN_FIRST = "Train a model first: it ranks the images."


def offer_training(parent: QWidget, state: AppState, text: str) -> QMessageBox:
    """No model yet: say so and offer the Train page (a non-blocking box, shown)."""
    box = QMessageBox(QMessageBox.Icon.Information, "No trained model yet", text, parent=parent)
    go = box.addButton("Go to Train", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    go.clicked.connect(lambda: state.show_page.emit("Train"))
    box.setWindowModality(Qt.WindowModality.NonModal)  # labelling may go on meanwhile
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box


def rank_job(job, project):
    """(image id, uncertainty) of the unlabeled images, most uncertain first."""
    from engine.interpret.uncertainty import rank_unlabeled
    from engine.predict.predictor import Predictor

    predictor = Predictor.from_path(project.path, device="cpu")
    return rank_unlabeled(
        project,
        predictor,
        control=job.control,
        on_progress=lambda d, t: job.emit(Progress(d, t, f"Ranking {d} of {t} unlabeled images")),
    )


class UncertainSort(QObject):
    """The button, the ranking (`ranked`: (id, score), most uncertain first) and the sort
    order it gives the grid (`rank`: image id -> position, while the sort is on).

    Signals: `message(text)`, a line for the page's count label (progress, why not);
    `train_first(text)`, there is no model to rank with (the page offers the Train page);
    `ranked(sort_grid)`, a ranking arrived for the open project, after the page's grid should
    show the unlabeled images in its order (`sort_grid`) or before `start`'s `then` runs.
    """

    message = Signal(str)
    train_first = Signal(str)
    ranked = Signal(bool)

    def __init__(self, state: AppState, bridge: EngineBridge | None, parent: QObject | None = None):
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        self.rank: dict[int, int] | None = None
        self.ranking: list[tuple[int, float]] = []
        self._stamp = None  # (project, model key) the ranking was made for
        self._then: Callable[[], None] | None = None  # what to do with the ranking when ready
        self.running = False
        self.button = QPushButton(SORT_TEXT)
        self.button.setToolTip(
            "Show the unlabeled images the trained model is least sure of first: "
            "labelling those teaches it the most."
        )
        self.button.clicked.connect(self._clicked)
        state.changed.connect(self._on_project_changed)
        state.project_changed.connect(self._forget)
        if bridge is not None:
            job = bridge.job(JobName.RANK)
            job.finished.connect(self._on_ranked)
            job.failed.connect(self._on_failed)
            job.cancelled.connect(self._on_cancelled)
            job.events.connect(self._on_events)

    def order(self, ids: list[int], unlabeled_shown: bool) -> list[int]:
        """`ids` in ranking order (images without a rank last, in their order) while the grid
        shows the unlabeled images (`unlabeled_shown`); otherwise the sort ends."""
        if (
            self.rank is None
            or self._stamp is None
            or self.state.project is not self._stamp[0]
            or not unlabeled_shown
        ):
            self.rank = None  # another filter or project: back to import order
            return ids
        end = len(self.rank)
        return sorted(ids, key=lambda i: self.rank.get(i, end))

    def fresh(self) -> bool:
        """Whether `ranking` was made by the model in use for the project's images now."""
        p = self.state.project
        return self._stamp is not None and self._stamp == (p, model_key(p))

    @Slot(object)
    def _forget(self, *_args) -> None:
        self.ranking, self._stamp, self.rank = [], None, None

    @Slot(str, object)
    def _on_project_changed(self, kind: str, _ids) -> None:
        if kind == "images":  # images added or removed: the ranking misses some
            self._stamp = None

    @Slot()
    def _clicked(self) -> None:
        if self.running:
            self.bridge.cancel()
        else:
            self.start()

    def start(self, then: Callable[[], None] | None = None) -> bool:
        """Rank the unlabeled images; then sort the grid by it, or call `then()` if given."""
        project = self.state.project
        if project is None or self.bridge is None or self.running:
            return False
        if model_key(project) is None:
            self.message.emit(TRAIN_FIRST)
            self.train_first.emit(TRAIN_FIRST)
            return False
        if not self.bridge.submit(JobName.RANK, rank_job, project):
            self.message.emit("Busy: try again when the running job ends.")
            return False
        self._then, self.running = then, True
        self._stamp = (project, model_key(project))
        self.button.setText("Stop ranking")
        return True

    @Slot(list)
    def _on_events(self, events: list) -> None:
        for ev in events:
            if isinstance(ev, Progress):
                self.message.emit(ev.text)

    def _done(self) -> None:
        self.running = False
        self.button.setText(SORT_TEXT)

    @Slot(object)
    def _on_ranked(self, ranking) -> None:
        self._done()
        if self._stamp is None or self._stamp[0] is not self.state.project:
            return  # the project changed (or images came) while it ran
        self.ranking = list(ranking)
        then, self._then = self._then, None
        if then is not None:
            self.ranked.emit(False)
            then()
            return
        self.rank = {iid: k for k, (iid, _s) in enumerate(self.ranking)}
        self.ranked.emit(True)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._done()
        self._stamp = None
        self.message.emit(f"Cannot rank: {message}")

    @Slot()
    def _on_cancelled(self) -> None:
        self._done()
        self._stamp = None
        self.message.emit("Ranking stopped.")

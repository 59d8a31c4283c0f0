"""The Data page's "Most uncertain first" sort: the trained model ranks the unlabeled images on
the worker thread (engine.interpret.uncertainty, JobName.RANK); the grid then shows the unlabeled
images, the least certain first, so the next image to label is the top-left one. Without a
model it says to train first. The ranking is kept (for "Label next", gui.data.label_next) while
the model file and the project's images stay the same; labelling does not change the model's
scores, so labelled images are only skipped. While it runs, the button stops it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Slot
from PySide6.QtWidgets import QMessageBox, QPushButton

from engine.events import Progress
from gui.common.model_in_use import model_key
from gui.data.class_panel import UNLABELED
from gui.jobs.names import JobName

SORT_TEXT = "Most uncertain first"
TRAIN_FIRST = "Train a model first: it ranks the images."


def offer_training(page, text: str) -> QMessageBox:
    """No model yet: say so and offer the Train page (a non-blocking box; `page.train_offer`)."""
    box = QMessageBox(QMessageBox.Icon.Information, "No trained model yet", text, parent=page)
    go = box.addButton("Go to Train", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    go.clicked.connect(lambda: page.state.show_page.emit("Train"))
    box.setWindowModality(Qt.WindowModality.NonModal)  # labelling may go on meanwhile
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    page.train_offer = box
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
    order it gives the grid (`rank`: image id -> position, while the sort is on)."""

    def __init__(self, page, bridge):
        super().__init__(page)
        self.page, self.bridge = page, bridge
        self.rank: dict[int, int] | None = None
        self.ranked: list[tuple[int, float]] = []
        self._stamp = None  # (project, model key) the ranking was made for
        self._then: Callable[[], None] | None = None  # what to do with the ranking when ready
        self.running = False
        self.button = QPushButton(SORT_TEXT)
        self.button.setToolTip(
            "Show the unlabeled images the trained model is least sure of first: "
            "labelling those teaches it the most."
        )
        self.button.clicked.connect(self._clicked)
        page.state.changed.connect(self._on_project_changed)
        page.state.project_changed.connect(self._forget)
        if bridge is not None:
            job = bridge.job(JobName.RANK)
            job.finished.connect(self._on_ranked)
            job.failed.connect(self._on_failed)
            job.cancelled.connect(self._on_cancelled)
            job.events.connect(self._on_events)

    def order(self, ids: list[int]) -> list[int]:
        """`ids` in ranking order (images without a rank last, in their order)."""
        if (
            self.rank is None
            or self._stamp is None
            or self.page.project is not self._stamp[0]
            or self.page.filters.label.currentData() != UNLABELED
        ):
            self.rank = None  # another filter or project: back to import order
            return ids
        end = len(self.rank)
        return sorted(ids, key=lambda i: self.rank.get(i, end))

    def fresh(self) -> bool:
        """Whether `ranked` was made by the model in use for the project's images now."""
        p = self.page.project
        return self._stamp is not None and self._stamp == (p, model_key(p))

    @Slot(object)
    def _forget(self, *_args) -> None:
        self.ranked, self._stamp, self.rank = [], None, None

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
        project = self.page.project
        if project is None or self.bridge is None or self.running:
            return False
        if model_key(project) is None:
            self.page.filters.count.setText(TRAIN_FIRST)
            offer_training(self.page, TRAIN_FIRST)
            return False
        if not self.bridge.submit(JobName.RANK, rank_job, project):
            self.page.filters.count.setText("Busy: try again when the running job ends.")
            return False
        self._then, self.running = then, True
        self._stamp = (project, model_key(project))
        self.button.setText("Stop ranking")
        return True

    @Slot(list)
    def _on_events(self, events: list) -> None:
        for ev in events:
            if isinstance(ev, Progress):
                self.page.filters.count.setText(ev.text)

    def _done(self) -> None:
        self.running = False
        self.button.setText(SORT_TEXT)

    @Slot(object)
    def _on_ranked(self, ranked) -> None:
        self._done()
        if self._stamp is None or self._stamp[0] is not self.page.project:
            return  # the project changed (or images came) while it ran
        self.ranked = list(ranked)
        then, self._then = self._then, None
        if then is not None:
            self.page.refresh_counts()
            then()
            return
        f = self.page.filters
        f.label.blockSignals(True)
        f.label.setCurrentIndex(max(0, f.label.findData(UNLABELED)))
        f.label.blockSignals(False)
        self.rank = {iid: k for k, (iid, _s) in enumerate(self.ranked)}
        self.page.apply_filters()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._done()
        self._stamp = None
        self.page.filters.count.setText(f"Cannot rank: {message}")

    @Slot()
    def _on_cancelled(self) -> None:
        self._done()
        self._stamp = None
        self.page.filters.count.setText("Ranking stopped.")

"""The Data page's "Most uncertain first" sort: the trained model ranks the unlabeled images on
the worker thread (engine.interpret.uncertainty, JobName.RANK); the grid then shows the unlabeled
images, the least certain first, so the next image to label is the top-left one. Without a
model it says to train first."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QPushButton

from engine.events import Progress
from gui.data.class_panel import UNLABELED
from gui.jobs.names import JobName


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
    """The button and the ranking it keeps (`rank`: image id -> position) for the page."""

    def __init__(self, page, bridge):
        super().__init__(page)
        self.page, self.bridge = page, bridge
        self.rank: dict[int, int] | None = None
        self._ranked_project = None  # the ranking belongs to this project only
        self.button = QPushButton("Most uncertain first")
        self.button.setToolTip(
            "Show the unlabeled images the trained model is least sure of first: "
            "labelling those teaches it the most."
        )
        self.button.clicked.connect(self.start)
        if bridge is not None:
            job = bridge.job(JobName.RANK)
            job.finished.connect(self._on_ranked)
            job.failed.connect(self._on_failed)
            job.events.connect(self._on_events)

    def order(self, ids: list[int]) -> list[int]:
        """`ids` in ranking order (images without a rank last, in their order)."""
        if (
            self.rank is None
            or self.page.project is not self._ranked_project
            or self.page.filters.label.currentData() != UNLABELED
        ):
            self.rank = None  # another filter or project: back to import order
            return ids
        end = len(self.rank)
        return sorted(ids, key=lambda i: self.rank.get(i, end))

    @Slot()
    def start(self) -> bool:
        from engine.predict.predictor import ModelFileError, resolve_model_path

        project = self.page.project
        if project is None or self.bridge is None:
            return False
        try:
            resolve_model_path(project.path)
        except ModelFileError:
            self.page.filters.count.setText("Train a model first: it ranks the images.")
            return False
        if not self.bridge.submit(JobName.RANK, rank_job, project):
            self.page.filters.count.setText("Busy: try again when the running job ends.")
            return False
        self.button.setEnabled(False)
        return True

    @Slot(list)
    def _on_events(self, events: list) -> None:
        for ev in events:
            if isinstance(ev, Progress):
                self.page.filters.count.setText(ev.text)

    @Slot(object)
    def _on_ranked(self, ranked) -> None:
        self.button.setEnabled(True)
        f = self.page.filters
        f.label.blockSignals(True)
        f.label.setCurrentIndex(max(0, f.label.findData(UNLABELED)))
        f.label.blockSignals(False)
        self.rank = {iid: k for k, (iid, _s) in enumerate(ranked)}
        self._ranked_project = self.page.project
        self.page.apply_filters()

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.button.setEnabled(True)
        self.page.filters.count.setText(f"Cannot rank: {message}")

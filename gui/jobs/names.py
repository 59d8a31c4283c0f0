"""The names jobs are submitted to the bridge under, with what the status bar says while each
runs. Consumers connect to one name through `EngineBridge.job(name)` instead of filtering."""

from __future__ import annotations

from enum import StrEnum


class JobName(StrEnum):
    """One kind of engine job. A str, so a plain "train" compares and hashes the same."""

    TRAIN = "train"
    LR_FIND = "lr_find"
    PREDICT = "predict"
    PREDICT_FOLDER = "predict_folder"
    IMPORT = "import"
    DEMO = "demo"
    EXPORT = "export"
    PREDICT_MASK = "predict_mask"
    LEAST_CERTAIN = "least_certain"
    CHECK = "check"
    HEATMAP = "heatmap"
    RANK = "rank"
    USE_RUN = "use_run"

    @property
    def text(self) -> str:
        """What the status bar says while this job runs."""
        return _TEXTS[self]


_TEXTS = {
    JobName.TRAIN: "Training…",
    JobName.LR_FIND: "Finding a learning rate…",
    JobName.PREDICT: "Predicting…",
    JobName.PREDICT_FOLDER: "Predicting a folder…",
    JobName.IMPORT: "Importing images…",
    JobName.DEMO: "Making the demo project…",
    JobName.EXPORT: "Exporting the model…",
    JobName.PREDICT_MASK: "Predicting this image's mask…",
    JobName.LEAST_CERTAIN: "Finding the image the model is least sure of…",
    JobName.CHECK: "Checking the data…",
    JobName.HEATMAP: "Computing the heatmap…",
    JobName.RANK: "Ranking unlabeled images…",
    JobName.USE_RUN: "Switching the model in use…",
}

TRAINING_JOBS = frozenset({JobName.TRAIN, JobName.LR_FIND})
PREDICTION_JOBS = frozenset({JobName.PREDICT, JobName.PREDICT_FOLDER})


def job_text(name: str) -> str:
    """The status-bar text while job `name` runs (any name: tests and tools submit their own)."""
    try:
        return JobName(name).text
    except ValueError:
        return f"Working: {name}…"

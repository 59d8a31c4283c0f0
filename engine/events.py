"""Plain-value events the engine reports through callbacks (safe to hand to another thread).

Every field is a Python scalar, str, tuple/list/dict of those, or a numpy array the engine
has copied and will not touch again. Never a tensor.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Progress:
    """Generic progress of a job (import, prediction of a folder, weight download)."""

    done: int
    total: int  # 0 when unknown
    text: str = ""


@dataclass(frozen=True)
class DownloadProgress:
    name: str  # file name being downloaded
    done_bytes: int
    total_bytes: int  # 0 when unknown


@dataclass(frozen=True)
class Skipped:
    """A file that could not be used (import or training); the job goes on."""

    path: str
    reason: str


@dataclass(frozen=True)
class FitStart:
    task: str
    arch: str
    device: str  # e.g. "cpu", "cuda:0 (NVIDIA H200)"
    epochs: int  # total epochs, frozen included
    freeze_epochs: int
    steps_per_epoch: int
    n_train: int
    n_valid: int
    metric_names: tuple[str, ...]  # e.g. ("error_rate", "accuracy")
    class_names: tuple[str, ...] = ()


@dataclass(frozen=True)
class BatchEnd:
    epoch: int  # 0-based
    batch: int  # 0-based within the epoch
    step: int  # 0-based over the whole run
    total_steps: int
    loss: float  # this batch's train loss
    lr: float  # learning rate of the head group after this step
    images_per_s: float
    eta_s: float
    frozen: bool


@dataclass(frozen=True)
class EpochEnd:
    epoch: int
    train_loss: float
    valid_loss: float
    metrics: dict[str, float]
    frozen: bool
    seconds: float
    is_best: bool
    warning: str = ""  # plain words when the validation predictions look broken (one class)


@dataclass(frozen=True)
class FitEnd:
    epochs_done: int
    best_epoch: int
    best_metric: float | None
    checkpoint: str  # this run's best model file, models/runs/<run_id>/best.pt ("" if none)
    cancelled: bool
    history: list[dict] = field(default_factory=list)  # one dict per epoch, like EpochEnd
    run_id: str = ""  # the run's folder name in models/runs/ ("" if no epoch started)
    promoted: bool = False  # the run finished better and its model is now the model in use


@dataclass(frozen=True)
class LRFinderResult:
    lrs: np.ndarray
    losses: np.ndarray
    suggestion: float


HOOKS = {
    FitStart: "on_fit_start",
    BatchEnd: "on_batch_end",
    EpochEnd: "on_epoch_end",
    FitEnd: "on_fit_end",
    DownloadProgress: "on_download",
    Skipped: "on_skipped",
    Progress: "on_progress",
}  # an exception goes to on_exception


def hook_name(event) -> str:
    """The typed hook an event goes to: `on_fit_start` for a FitStart, ..., `on_exception`."""
    return "on_exception" if isinstance(event, BaseException) else HOOKS[type(event)]


class Callback:
    """Override the hooks you need, or `on_event` to see every event (one sink, as a forwarder
    or a log wants). Called on the training thread, in order, through `emit`."""

    def on_event(self, event) -> None:
        """Every event arrives here; this one hands it to its typed hook (`hook_name`)."""
        fn = getattr(self, hook_name(event), None)
        if fn is not None:
            fn(event)

    def on_fit_start(self, event: FitStart) -> None: ...

    def on_batch_end(self, event: BatchEnd) -> None: ...

    def on_epoch_end(self, event: EpochEnd) -> None: ...

    def on_fit_end(self, event: FitEnd) -> None: ...

    def on_exception(self, error: BaseException) -> None: ...

    def on_download(self, event: DownloadProgress) -> None: ...

    def on_skipped(self, event: Skipped) -> None: ...

    def on_progress(self, event: Progress) -> None: ...


def emit(callbacks, event) -> None:
    """Give `event` (or an exception) to every callback, in order, through its `on_event`; an
    object with only some typed hooks and no `on_event` is served as a `Callback` would be."""
    for cb in callbacks:
        sink = getattr(cb, "on_event", None)
        if sink is not None:
            sink(event)
        else:
            Callback.on_event(cb, event)

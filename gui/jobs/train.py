"""Training jobs on the bridge's thread: a run and the learning-rate finder, reporting through
`EmitCallback`, and `train_page_info`, the Train page's lookup of the networks for a task, the
device and the project's stored training history (it imports torch, so never on the GUI thread).
"""

from __future__ import annotations

import gc
import os
import threading
from dataclasses import MISSING, dataclass, fields

from engine.config import TrainConfig
from engine.events import Callback, EpochEnd, FitEnd, FitStart, LRFinderResult

WORKER_NICE = int(os.environ.get("TOPDOWN_WORKER_NICE", "5"))


class EmitCallback(Callback):
    """Hands every engine event to the bridge (runs on the worker thread); a failure reaches
    the GUI as the job's error instead."""

    def __init__(self, job):
        self.job = job

    def on_event(self, event) -> None:
        if isinstance(event, BaseException):
            return
        if isinstance(event, FitStart):
            # torch, the model and the Qt/pyqtgraph objects are all loaded by now: move them
            # out of the cyclic GC's reach, or each full collection walks ~400k objects while
            # holding the GIL (100-200 ms in which the window cannot repaint)
            gc.freeze()
        self.job.emit(event)


def _lower_priority() -> None:
    """Let the GUI thread win the CPU over the training thread (Linux: per-thread nice)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), WORKER_NICE)
    except (AttributeError, OSError):  # not on this platform / not allowed: no harm
        pass


def train_job(job, project, config: TrainConfig) -> FitEnd:
    from engine.training.train import train

    _lower_priority()
    return train(project, config, callbacks=[EmitCallback(job)], control=job.control)


def lr_find_job(job, project, config: TrainConfig) -> LRFinderResult:
    from engine.training.train import lr_find

    return lr_find(project, config, callbacks=[EmitCallback(job)], control=job.control)


@dataclass(frozen=True)
class TrainPageInfo:
    """What the Train page needs from the engine about a project, looked up off the GUI thread."""

    project_path: str
    archs: tuple  # engine.models.registry architecture specs for the project's task
    device: object  # engine.devices.DeviceInfo
    history: tuple[EpochEnd, ...]  # the last run's epochs, as stored in the project
    history_error: str = ""  # why the stored history could not be read ("" when it could)
    gpus: int = 0  # CUDA GPUs visible (more than one: the page offers to use them all)


def train_page_info(project) -> TrainPageInfo:
    """Networks for the project's task, the device, and its stored training history."""
    from engine.devices import describe_device
    from engine.models.registry import architectures_for
    from engine.training.runs import load_history
    from gui.jobs.train_child import visible_gpus

    keys = [f.name for f in fields(EpochEnd)]
    # fields with a default (warning) came later: older histories lack them
    required = {f.name for f in fields(EpochEnd) if f.default is MISSING}
    try:
        records = load_history(project)
        history = tuple(
            EpochEnd(**{k: rec[k] for k in keys if k in rec or k in required}) for rec in records
        )
        error = ""
    except ValueError as e:
        history, error = (), str(e)
    except KeyError as e:
        history, error = (), f"The stored training history has no {e} field."
    return TrainPageInfo(
        str(project.path),
        tuple(architectures_for(project.task)),
        describe_device("auto"),
        history,
        error,
        visible_gpus(),
    )

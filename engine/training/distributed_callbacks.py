"""Which callbacks each process of a torchrun run has (engine.training.distributed).

Rank 0 runs the run's internal callbacks (files, the model in use) and the caller's (events,
told the speed of all processes together); the other ranks only keep the epoch count and early
stopping, which decide when the loop ends, so that every rank stops at the same epoch.
Test hook: TOPDOWN_FAULT_EXIT="RANK:EPOCH" makes that rank exit abruptly at the end of that
(0-based) epoch, to check how the others cope.
"""

from __future__ import annotations

import os
from dataclasses import asdict, replace

from engine.events import Callback, EpochEnd, FitEnd
from engine.training.callbacks import EarlyStopping, ModelInUse
from engine.training.distributed import active, is_main, rank, unwrap, world_size

FAULT_ENV = "TOPDOWN_FAULT_EXIT"


class _Scaled:
    """Rank 0's caller callbacks, told the whole job's speed (images/s of all processes)."""

    def __init__(self, inner):
        self.inner, self.n = inner, world_size()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def on_batch_end(self, event) -> None:
        fn = getattr(self.inner, "on_batch_end", None)
        if fn is not None:
            fn(replace(event, images_per_s=event.images_per_s * self.n))

    def on_fit_start(self, event) -> None:
        fn = getattr(self.inner, "on_fit_start", None)
        if fn is not None:
            fn(replace(event, device=f"{event.device} x {self.n} processes"))


def user_callbacks(callbacks: list) -> list:
    """The caller's callbacks: all of them on one process; on rank 0 only under torchrun."""
    if not active():
        return callbacks
    return [_Scaled(cb) for cb in callbacks] if is_main() else []


class _Epochs(Callback):
    """Ranks other than 0 keep the epoch count that rank 0's History keeps (nothing written)."""

    def __init__(self, state):
        self.state = state

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.state.history.append(asdict(event))


class _FaultExit(Callback):
    """Test hook (TOPDOWN_FAULT_EXIT=RANK:EPOCH): this rank dies at the end of that epoch."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_epoch_end(self, event: EpochEnd) -> None:
        if event.epoch == self.epoch:
            os._exit(3)


class _WholeValidation:
    """Around a callback that evaluates on rank 0 alone at the run's end (ModelInUse): the plain
    model, plain metrics and a loader of every validation image, with local stop checks."""

    def __init__(self, inner, run, config):
        self.inner, self.run, self.config = inner, run, config

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def on_fit_end(self, event: FitEnd) -> None:
        from engine.training.data import make_loader

        run = self.run
        unwrap(run)
        sharded = run.valid_loader
        ds = sharded.dataset
        run.valid_loader = make_loader(
            ds, self.config.batch_size, False, self.config, run.device.type == "cuda"
        )
        try:
            self.inner.on_fit_end(event)
        finally:
            run.valid_loader = sharded


def run_callbacks(internal: list, state, run, config) -> list:
    """The run's internal callbacks for this rank: all of them (the full-validation one
    adapted) on rank 0, only early stopping and the epoch count elsewhere."""
    if not active():
        return internal
    fault = os.environ.get(FAULT_ENV, "")
    extra = []
    if fault and int(fault.split(":")[0]) == rank():
        extra.append(_FaultExit(int(fault.split(":")[1])))
    if is_main():
        return [
            _WholeValidation(cb, run, config) if isinstance(cb, ModelInUse) else cb
            for cb in internal
        ] + extra
    return [EarlyStopping(state, config.early_stopping_patience), _Epochs(state), *extra]

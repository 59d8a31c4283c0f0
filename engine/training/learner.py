"""The inner loops: one training epoch, one validation pass, with events, control and AMP.

`Learner` holds what every loop needs (model bundle, batch preparation, loss, metrics, device,
callbacks, run control); mixed precision follows engine.devices (bfloat16, or float16 with a
GradScaler, on CUDA only). Per-batch work is kept small: one `loss.item()` per step (for the
BatchEnd event and the NaN check) and nothing else that waits for the device.
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass

import torch

from engine.control import RunControl
from engine.devices import amp_dtype, needs_grad_scaler
from engine.errors import DivergedError, TrainingError
from engine.events import BatchEnd, Skipped
from engine.training.batchnorm import EpochStatistics


def emit(callbacks, hook: str, event) -> None:
    """Call `hook(event)` on every callback that has it, in order (engine.events.Callback)."""
    for cb in callbacks:
        fn = getattr(cb, hook, None)
        if fn is not None:
            fn(event)


@dataclass(frozen=True)
class StepClock:
    """Where this training session stands, for BatchEnd's step numbers and ETA."""

    t_start: float  # time.perf_counter() when this session's first epoch began
    steps_before: int  # steps of the run done before this session (a resumed run's epochs)
    total_steps: int  # steps of the whole run


class Learner:
    """The model with its batch preparation, loss, metrics, device, callbacks and control."""

    def __init__(
        self,
        *,
        bundle,
        spec,
        config,
        device,
        prep,
        loss_fn,
        metrics_factory,
        callbacks=(),
        control: RunControl | None = None,
        project=None,
    ):
        self.bundle = bundle
        self.model = bundle.model
        self.spec = spec
        self.config = config
        self.device = device
        self.prep = prep
        self.loss_fn = loss_fn
        self.metrics_factory = metrics_factory
        self.callbacks = list(callbacks)
        self.control = control or RunControl()
        self.project = project  # told about unreadable images (project.record_skipped)
        self.skipped: set[str] = set()
        self.bn_stats = EpochStatistics(self.model)  # running statistics of this epoch's weights
        self.last_metrics = None  # the latest validation's Metrics (Metrics.one_class)
        # mixed precision on CUDA only; float16 (no bfloat16 on the GPU) needs a GradScaler
        self.amp_dtype = amp_dtype(device) if config.mixed_precision else None
        self.scaler = None
        if self.amp_dtype is not None and needs_grad_scaler(device):
            self.scaler = torch.amp.GradScaler("cuda")

    def autocast(self):
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def report_skipped(self, entries) -> None:
        new = [(p, r) for p, r in entries if p not in self.skipped]
        for p, r in new:
            self.skipped.add(p)
            emit(self.callbacks, "on_skipped", Skipped(p, r))
        if new and self.project is not None:
            self.project.record_skipped(new)

    def batches(self, loader):
        """Yield (x, y, idx) ready for the model; bad images are reported and left out."""
        for x, y, idx, skipped in loader:
            self.control.check()
            if skipped:
                self.report_skipped(skipped)
            if x is None or (x.shape[0] < 2 and self.model.training):
                continue  # a batch of one breaks BatchNorm in training
            x, y = self.prep(x, y, train=self.model.training)
            yield x, y, idx

    def train_step(self, x, y, optimizer, scheduler=None) -> float:
        with self.autocast():
            out = self.model(x)
            loss = self.loss_fn(out, y)
        optimizer.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        return float(loss.detach())

    def train_epoch(
        self, loader, *, epoch: int, optimizer, scheduler, frozen: bool, clock: StepClock
    ) -> float:
        """One epoch; returns the mean train loss. Raises DivergedError on NaN / inf."""
        self.model.train()
        self.bn_stats.start_epoch()
        total, n, speed = 0.0, 0, 0.0
        t_last = time.perf_counter()
        step = epoch * len(loader)
        for b, (x, y, _) in enumerate(self.batches(loader)):
            self.bn_stats.before_step()
            loss = self.train_step(x, y, optimizer, scheduler)
            if not math.isfinite(loss):
                raise DivergedError(
                    f"The training loss became {loss} at epoch {epoch + 1}, batch {b + 1}: "
                    "training diverged. Use a lower learning rate (for example a tenth of "
                    f"{optimizer.param_groups[-1]['lr']:.2g}) and train again."
                )
            bs = x.shape[0]
            total += loss * bs
            n += bs
            now = time.perf_counter()
            inst = bs / max(now - t_last, 1e-9)
            speed = inst if speed == 0 else 0.8 * speed + 0.2 * inst
            t_last = now
            step += 1
            done = step - clock.steps_before
            eta = (now - clock.t_start) / max(done, 1) * (clock.total_steps - step)
            emit(
                self.callbacks,
                "on_batch_end",
                BatchEnd(
                    epoch=epoch,
                    batch=b,
                    step=step - 1,
                    total_steps=clock.total_steps,
                    loss=loss,
                    lr=float(optimizer.param_groups[-1]["lr"]),
                    images_per_s=float(speed),
                    eta_s=float(eta),
                    frozen=frozen,
                ),
            )
        if n == 0:
            raise TrainingError(
                "No training image could be read in this epoch; see the "
                "skipped files for the reasons."
            )
        return total / n

    @torch.no_grad()
    def validate(self, loader, on_batch=None) -> dict:
        """Valid loss and the task's metrics; on_batch(out, y, idx) sees each batch's outputs."""
        self.model.eval()
        m = self.metrics_factory()
        for x, y, idx in self.batches(loader):
            with self.autocast():
                out = self.model(x)
                loss = self.loss_fn(out, y)
            out = out.float()
            m.update(out, y, loss)
            if on_batch is not None:
                on_batch(out, y, idx)
        self.last_metrics = m
        return m.compute()

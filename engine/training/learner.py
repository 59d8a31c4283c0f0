"""The inner loops: one training epoch, one validation pass, with events, control and AMP.

`Learner` holds what every loop needs (model bundle, loaders, batch preparation, loss, device,
callbacks, run control). Per-batch work is kept small: one `loss.item()` per step (for the
BatchEnd event and the NaN check) and nothing else that waits for the device.
"""

from __future__ import annotations

import contextlib
import math
import time

import torch

from engine.control import RunControl
from engine.events import BatchEnd, Skipped
from engine.training.data import TrainingError


class DivergedError(TrainingError):
    """The loss became NaN or infinite."""


def emit(callbacks, hook: str, event) -> None:
    for cb in callbacks:
        fn = getattr(cb, hook, None)
        if fn is not None:
            fn(event)


def device_tools():
    """(pick_device, amp_dtype, set_cpu_threads) from engine.devices, or simple fallbacks."""
    try:
        from engine.devices import amp_dtype, pick_device, set_cpu_threads

        return pick_device, amp_dtype, set_cpu_threads
    except ImportError:  # pragma: no cover - devices.py is another module's job
        import os

        def pick(pref: str = "auto"):
            if pref in ("auto", "cuda") and torch.cuda.is_available():
                return torch.device("cuda")
            return torch.device("cpu")

        def amp(device):
            if device.type != "cuda":
                return None
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16

        def threads(leave_one_core: bool = False):
            n = os.cpu_count() or 1
            torch.set_num_threads(max(1, n - 1) if leave_one_core else n)

        return pick, amp, threads


class Learner:
    def __init__(
        self,
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
        self.project = project
        self.skipped: set[str] = set()
        self.amp_dtype = None
        self.scaler = None
        if device.type == "cuda" and config.mixed_precision:
            self.amp_dtype = device_tools()[1](device)
            if self.amp_dtype == torch.float16:
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
        self,
        loader,
        epoch: int,
        optimizer,
        scheduler,
        step0: int,
        total_steps: int,
        frozen: bool,
        t_start: float,
        steps_before: int,
    ) -> float:
        """One epoch; returns the mean train loss. Raises DivergedError on NaN / inf."""
        self.model.train()
        total, n, speed = 0.0, 0, 0.0
        t_last = time.perf_counter()
        step = step0
        for b, (x, y, _) in enumerate(self.batches(loader)):
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
            done = step - steps_before
            eta = (now - t_start) / max(done, 1) * (total_steps - step)
            emit(
                self.callbacks,
                "on_batch_end",
                BatchEnd(
                    epoch=epoch,
                    batch=b,
                    step=step - 1,
                    total_steps=total_steps,
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
        return m.compute()

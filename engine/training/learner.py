"""What every loop over batches needs: the batches themselves, one training step, one
validation pass, with control and AMP (the epochs and batches of a run are
engine.training.fit.Loop; the LR finder and the final evaluation use the same Learner).

`Learner` holds the model bundle, batch preparation, loss, metrics, device, callbacks (told
about unreadable images) and run control; mixed precision follows engine.devices (bfloat16, or
float16 with a GradScaler, on CUDA only). Per-batch work is kept small: one `loss.item()` per
step (for the BatchEnd event and the NaN check) and nothing else that waits for the device.
"""

from __future__ import annotations

import contextlib

import torch

from engine.control import RunControl
from engine.devices import amp_dtype, needs_grad_scaler
from engine.events import Skipped, emit
from engine.training.batchnorm import EpochStatistics
from engine.training.metrics import Metrics


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
        self.model = bundle.model  # what training steps call (the loop may wrap it: DDP)
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
            emit(self.callbacks, Skipped(p, r))
        if new and self.project is not None:
            self.project.record_skipped(new)

    def batches(self, loader, check=None):
        """Yield (x, y, idx) ready for the model; bad images are reported and left out.
        `check()` runs before each batch (default: the run control's pause and stop)."""
        check = check or self.control.check
        for x, y, idx, skipped in loader:
            check()
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

    @torch.no_grad()
    def measure(self, loader, on_batch=None, check=None) -> Metrics:
        """One validation pass: the loss and task metrics accumulated (not yet read out);
        on_batch(out, y, idx) sees each batch's outputs."""
        self.model.eval()
        m = self.metrics_factory()
        for x, y, idx in self.batches(loader, check):
            with self.autocast():
                out = self.model(x)
                loss = self.loss_fn(out, y)
            out = out.float()
            m.update(out, y, loss)
            if on_batch is not None:
                on_batch(out, y, idx)
        return m

    def validate(self, loader, on_batch=None) -> dict:
        """Valid loss and the task's metrics of one pass (`measure`), as floats."""
        return self.measure(loader, on_batch).compute()

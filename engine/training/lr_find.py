"""Learning-rate finder (fastai style): train a few steps while the learning rate grows
exponentially, record the smoothed loss, stop when it explodes, and suggest a rate in the
'valley' (the longest stretch of falling loss). Weights are restored afterwards."""

from __future__ import annotations

import copy
import math

import numpy as np
import torch

from engine.events import LRFinderResult, Progress
from engine.training.learner import Learner, emit

START_LR, END_LR, NUM_IT, BETA = 1e-7, 10.0, 100, 0.98


def valley(lrs: np.ndarray, losses: np.ndarray) -> float:
    """fastai's valley suggestion: ~2/3 down the longest decreasing run of the loss curve."""
    n = len(losses)
    if n < 3:
        return float(lrs[n // 2]) if n else 1e-3
    lds = [1] * n
    max_start, max_end = 0, 0
    for i in range(1, n):
        for j in range(i):
            if losses[i] < losses[j] and lds[i] < lds[j] + 1:
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    idx = min(n - 1, max_start + int(sections) + int(sections / 2))
    return float(lrs[idx])


def run_lr_find(
    learner: Learner,
    loader,
    num_it: int = NUM_IT,
    start_lr: float = START_LR,
    end_lr: float = END_LR,
) -> LRFinderResult:
    """Sweep on the trainable parameters as they are now (frozen body: the head's rate)."""
    model = learner.model
    saved = copy.deepcopy(model.state_dict())
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=start_lr, weight_decay=learner.config.weight_decay)
    mult = (end_lr / start_lr) ** (1 / max(num_it - 1, 1))
    lrs, losses = [], []
    avg, best = 0.0, math.inf
    model.train()
    try:
        it, stop = 0, False
        while not stop:
            before = it
            for x, y, _ in learner.batches(loader):
                lr = start_lr * mult**it
                for g in opt.param_groups:
                    g["lr"] = lr
                loss = learner.train_step(x, y, opt)
                it += 1
                emit(
                    learner.callbacks,
                    "on_progress",
                    Progress(it, num_it, "Finding a good learning rate"),
                )
                stop = not math.isfinite(loss)
                if stop:
                    break
                avg = BETA * avg + (1 - BETA) * loss
                smooth = avg / (1 - BETA**it)
                lrs.append(lr)
                losses.append(smooth)
                best = min(best, smooth)
                stop = it >= num_it or (it > 10 and smooth > 4 * best)
                if stop:
                    break
            stop = stop or it == before  # the loader gave no usable batch
    finally:
        model.load_state_dict(saved)
        opt.zero_grad(set_to_none=True)
    lrs_a, losses_a = np.asarray(lrs, float), np.asarray(losses, float)
    skip = 5 if len(lrs_a) > 20 else 0
    sugg = valley(lrs_a[: len(lrs_a) - skip], losses_a[: len(losses_a) - skip])
    return LRFinderResult(lrs=lrs_a.copy(), losses=losses_a.copy(), suggestion=sugg)

"""Learning-rate finder (fastai style), run by the user on purpose: train a few steps while the
rate grows exponentially, record the loss, stop when it explodes, suggest a rate. Weights are
restored afterwards.

Cheap: at most MAX_STEPS steps, about one epoch of data when an epoch is longer than
MIN_STEPS, and a time budget (BUDGET_S): the sweep measures its step time as it goes and
spreads the remaining rates over the steps that still fit, so it always reaches the top of its
range. Its result is cached per project and settings (PROJECT/models/lr_find.json).

The suggestion (`suggest`) is the rate at the minimum of the loss smoothed over +-0.75 decades,
checked against the rate that trains best on a grid (benchmarks/lr_finder_check.py): within
1.4x on two from-scratch classification sets and 2.2x of a fine-tuning plateau, but 37x too
high on a from-scratch U-Net segmentation set, whose sweep loss keeps falling up to 0.1 (fastai's
valley gives 4e-4 there, 7x low, and misses the other sets by 5-100x). Hence the fixed default.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
import time
from pathlib import Path

import numpy as np
import torch

from engine.atomic import write_text
from engine.config import DEFAULT_LR
from engine.events import LRFinderResult, Progress, emit
from engine.training.learner import Learner
from engine.training.recipe import finder_frozen
from engine.training.setup import Run

START_LR, END_LR = 1e-6, 10.0
MAX_STEPS, MIN_STEPS = 100, 40
BUDGET_S = 20.0  # wall-clock cap of a sweep, from its first step on (warm-up not counted)
FLOOR_STEPS = 16  # a sweep takes at least this many steps (unless the loss explodes)
DIVERGE = 4.0  # stop once the (EMA-)smoothed loss exceeds this many times its minimum
WINDOW_DECADES = 0.75  # half-width of the smoothing behind the suggestion, in decades of rate
CACHE_FILE = "lr_find.json"
CACHE_VERSION = 3  # bump when the sweep or the rule changes: older results are not reused
TEXT = "Finding a learning rate"
SWEEP_STEPS = None  # steps of the sweep of a run with lr "auto"; None: finder_steps (and BUDGET_S)


def finder_steps(steps_per_epoch: int) -> int:
    """Steps of a sweep: one epoch of data, but at least MIN_STEPS and at most MAX_STEPS."""
    return int(min(MAX_STEPS, max(MIN_STEPS, steps_per_epoch)))


def smooth(losses: np.ndarray, beta: float) -> np.ndarray:
    """Debiased exponential moving average (fastai's smooth loss)."""
    out, avg = np.empty(len(losses)), 0.0
    for i, v in enumerate(losses):
        avg = beta * avg + (1 - beta) * float(v)
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def beta_for(n: int) -> float:
    """EMA smoothing for the sweep's stop test: fastai's 0.98 suits 100+ steps; a short sweep
    needs a shorter memory, or the explosion is noticed decades late."""
    return float(min(0.98, max(0.6, 1 - 8.0 / max(n, 1))))


def smooth_log(lrs: np.ndarray, losses: np.ndarray, half: float = WINDOW_DECADES) -> np.ndarray:
    """Centred moving average over +-`half` decades of learning rate: no lag (an EMA over a short
    sweep shifts the curve right by decades), and as wide in rate for 30 steps as for 100."""
    x = np.log10(np.asarray(lrs, float))
    raw = np.asarray(losses, float)
    return np.array([raw[np.abs(x - xi) <= half].mean() for xi in x])


def suggest(lrs: np.ndarray, raw: np.ndarray) -> float:
    """The suggested peak rate: where the smoothed loss is lowest (Leslie Smith's rule for a
    one-cycle peak); the fixed default when the loss never fell (no signal in the sweep).

    Fitted against the best rate of a 5-point grid (benchmarks/lr_finder_check.py): fastai's
    valley and "minimum / 10" picked rates 5-100x too low on short from-scratch sweeps.
    """
    lrs, raw = np.asarray(lrs, float), np.asarray(raw, float)
    if len(raw) < 3:
        return float(lrs[len(lrs) // 2]) if len(lrs) else DEFAULT_LR
    s = smooth_log(lrs, raw)
    i = int(np.argmin(s))
    if s[i] > s[0] - 0.02 * abs(s[0]):  # never fell by 2 %: nothing to read from the curve
        return DEFAULT_LR
    return float(lrs[i])


def _sweep(learner: Learner, loader, num_it: int, start_lr: float, end_lr: float, budget_s):
    """(lrs, raw losses) of one sweep on the parameters that train now; weights restored."""
    model = learner.model
    saved = copy.deepcopy(model.state_dict())
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(
        params, lr=start_lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=learner.config.weight_decay
    )
    lrs: list[float] = []
    losses: list[float] = []
    planned, lr, best, avg = num_it, start_lr, math.inf, 0.0
    beta = beta_for(num_it)
    t1 = time.perf_counter()
    model.train()
    try:
        it, stop = 0, False
        while not stop:
            before = it
            for x, y, _ in learner.batches(loader):
                for g in opt.param_groups:
                    g["lr"] = lr
                loss = learner.train_step(x, y, opt)
                it += 1
                now = time.perf_counter()
                if it == 1:
                    t1 = now  # the first step carries warm-up costs: time the others
                elif budget_s:
                    per_step = (now - t1) / (it - 1)
                    fit = it + int(max(0.0, budget_s - (now - t1)) / max(per_step, 1e-9))
                    planned = max(it, min(num_it, max(fit, FLOOR_STEPS)))
                emit(learner.callbacks, Progress(it, planned, TEXT))
                if not math.isfinite(loss):
                    stop = True
                    break
                lrs.append(lr)
                losses.append(loss)
                avg = beta * avg + (1 - beta) * loss
                sm = avg / (1 - beta**it)
                best = min(best, sm)
                stop = it >= planned or (it > 5 and sm > DIVERGE * best)
                if stop:
                    break
                lr = lr * (end_lr / lr) ** (1 / max(planned - it, 1))
            stop = stop or it == before  # the loader gave no usable batch
    finally:
        model.load_state_dict(saved)
        opt.zero_grad(set_to_none=True)
    return np.asarray(lrs, float), np.asarray(losses, float)


def run_lr_find(
    learner: Learner,
    loader,
    num_it: int | None = None,
    start_lr: float = START_LR,
    end_lr: float = END_LR,
    budget_s: float | None = BUDGET_S,
) -> LRFinderResult:
    """Sweep on the trainable parameters as they are now (frozen body: the head's rate)."""
    n = int(num_it or finder_steps(len(loader)))
    lrs, raw = _sweep(learner, loader, n, start_lr, end_lr, budget_s)
    shown = smooth_log(lrs, raw) if len(raw) else raw
    return LRFinderResult(lrs=lrs.copy(), losses=shown, suggestion=suggest(lrs, raw))


def cached_find(project, config, run: Run, num_it: int | None, use_cache: bool = True):
    """The finder's result for these settings: from PROJECT/models/lr_find.json, or a new
    sweep of what the run's first phase trains (the head alone when it is frozen), kept there."""
    frozen = finder_frozen(config.freeze_epochs, run.bundle.pretrained)
    key = cache_key(config, run.spec, frozen)
    hit = load_cached(project, key) if use_cache else None
    if hit is not None:
        return hit
    run.bundle.freeze_body() if frozen else run.bundle.unfreeze()
    try:
        res = run_lr_find(run.learner, run.train_loader, num_it=num_it)
    finally:
        run.bundle.unfreeze()
    save_cached(project, key, res)
    return res


# ---- cache ---------------------------------------------------------------------------------


def cache_key(config, spec, frozen: bool) -> str:
    """What the curve depends on: network, start weights, image and batch size, task, data."""
    weights = str(config.weights)
    p = Path(weights).expanduser()
    if p.is_file():  # a local file: its content may change under the same name
        st = p.stat()
        weights = f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns}"
    parts = {
        "v": CACHE_VERSION,
        "arch": config.arch,
        "weights": weights,
        "image_size": int(config.image_size),
        "batch_size": int(config.batch_size),
        "task": spec.task,
        "frozen": bool(frozen),
        "classes": list(spec.class_names),
        "n_train": len(spec.train),
        "wd": float(config.weight_decay),
        "aug": [config.flip, config.rotate, config.resized_crop, config.color_jitter],
    }
    return hashlib.sha1(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def _cache_path(project) -> Path:
    return Path(project.path) / "models" / CACHE_FILE


def load_cached(project, key: str) -> LRFinderResult | None:
    """The stored result for `key`, or None (no file, other settings, unreadable)."""
    try:
        data = json.loads(_cache_path(project).read_text("utf-8"))
        if not isinstance(data, dict) or data.get("key") != key:
            return None
        res = LRFinderResult(
            lrs=np.asarray(data["lrs"], float),
            losses=np.asarray(data["losses"], float),
            suggestion=float(data["suggestion"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None  # unreadable or of another shape: swept again
    ok = res.lrs.ndim == 1 and res.lrs.shape == res.losses.shape and len(res.lrs) > 0
    return res if ok and math.isfinite(res.suggestion) and res.suggestion > 0 else None


def save_cached(project, key: str, res: LRFinderResult) -> None:
    """Store `res` atomically (one result per project: the latest settings)."""
    path = _cache_path(project)
    path.parent.mkdir(exist_ok=True)
    data = {
        "key": key,
        "lrs": [float(v) for v in res.lrs],
        "losses": [float(v) for v in res.losses],
        "suggestion": float(res.suggestion),
    }
    write_text(path, json.dumps(data))

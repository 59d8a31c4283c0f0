"""How good is the model, in plain words: its main metric against the obvious baseline on the
same validation images, a warning when the validation loss exploded, and what to try next.

The baselines are what a model that learned nothing scores: always answering the most frequent
class (classification), switching on every label (multi-label: its F1), answering the mean
value (regression: its mean absolute error), painting every pixel the most frequent class
(segmentation: its pixel accuracy and mean IoU). Computed after a run from the saved
evaluation (engine.training.evaluation) and the run's history; no torch, no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

# the main metric per task (engine.training.metrics.MAIN_METRIC, without importing torch)
MAIN = {
    "classification": ("accuracy", True),
    "multilabel": ("f1_macro", True),
    "regression": ("mae", False),
    "segmentation": ("miou", True),
}
METRIC_WORDS = {
    "accuracy": "Accuracy is the share of validation images it gets right.",
    "f1_macro": "F1 balances missed and wrong labels (1 is perfect), averaged over the labels.",
    "mae": "Mean absolute error is how far off its numbers are, in the targets' units.",
    "miou": "Mean IoU is how well predicted and true masks overlap (1 is perfect), averaged "
    "over the classes.",
    "pixel_accuracy": "Pixel accuracy is the share of pixels it gets right.",
}
SHORT = {"accuracy": "accuracy", "f1_macro": "F1", "mae": "mean absolute error",
         "miou": "mean IoU", "pixel_accuracy": "pixel accuracy"}  # fmt: skip
# skill = the share of the way from the baseline to perfect that the model has gone
LEVELS = ((0.05, "no better than guessing"), (0.35, "weak"), (0.7, "fair"), (math.inf, "good"))
EXPLODE_RATIO = 3.0  # a validation loss this many times its best so far has exploded
FEW_EPOCHS = 5
FEW_PER_CLASS = 20  # validation images per class below which more labels help most


@dataclass
class Baseline:
    metric: str
    value: float
    how: str  # "always answering “bees”"


@dataclass
class Verdict:
    task: str
    metric: str
    value: float | None
    level: str  # no better than guessing | weak | fair | good | unknown
    headline: str
    baseline: Baseline | None = None
    warnings: list[str] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)  # more comparisons (segmentation)

    @property
    def weak(self) -> bool:
        return self.level in ("no better than guessing", "weak")

    def lines(self) -> list[str]:
        """The verdict as lines for a person (the CLI prints them, the GUI shows them)."""
        out = [self.headline, *self.extra, *self.warnings]
        if self.next_steps:
            out += ["Next:", *(f"  - {step}" for step in self.next_steps)]
        return out


def _fmt(metric: str, v: float) -> str:
    return f"{v:.3g}" if metric == "mae" else f"{v:.3f}"


def baselines(ev) -> list[Baseline]:
    """What a model that learned nothing scores on `ev`'s validation images (main metric
    first; segmentation adds pixel accuracy)."""
    task, names = ev.task, list(ev.class_names)
    if task == "classification" and ev.confusion is not None and ev.confusion.sum():
        truth = np.asarray(ev.confusion).sum(1)
        top = int(truth.argmax())
        return [
            Baseline(
                "accuracy", float(truth[top] / truth.sum()), f"always answering “{names[top]}”"
            )
        ]
    if task == "segmentation" and ev.confusion is not None and ev.confusion.sum():
        truth = np.asarray(ev.confusion, dtype=np.float64).sum(1)
        top = int(truth.argmax())
        share = float(truth[top] / truth.sum())
        how = f"painting every pixel “{names[top]}”"
        present = int((truth > 0).sum())
        return [
            Baseline("miou", share / max(present, 1), how),
            Baseline("pixel_accuracy", share, how),
        ]
    if task == "multilabel" and ev.items:
        on = np.array([[n in (it.target or []) for n in names] for it in ev.items], dtype=float)
        p = on.mean(0)
        f1 = np.where(p > 0, 2 * p / (1 + p), 0.0)
        return [Baseline("f1_macro", float(f1.mean()), "switching on every label for every image")]
    if task == "regression" and ev.items:
        t = np.array([it.target for it in ev.items], dtype=float)
        mae = float(np.abs(t - t.mean(0)).mean())
        return [Baseline("mae", mae, "always answering the mean value")]
    return []


def skill(metric: str, value: float, base: float) -> float:
    """0 at the baseline, 1 at perfect (accuracy 1, error 0)."""
    if metric == "mae":
        return 1.0 - value / base if base > 0 else (1.0 if value == 0 else 0.0)
    return (value - base) / (1.0 - base) if base < 1 else (1.0 if value >= 1 else 0.0)


def level_of(s: float) -> str:
    return next(name for top, name in LEVELS if s < top)


def exploding(history: Sequence[dict], task: str = "", n_classes: int = 0) -> str:
    """A warning when the validation loss blew up ("" when it did not)."""
    losses = [h.get("valid_loss") for h in history]
    seen = None
    for i, v in enumerate(losses, 1):
        if v is None:
            continue
        if not math.isfinite(v):
            return f"The validation loss became {v} at epoch {i}: training diverged."
        if seen is not None and v > EXPLODE_RATIO * max(seen, 1e-6) and v > 0.5:
            return (
                f"The validation loss exploded: {v:.2f} at epoch {i}, "
                f"{v / max(seen, 1e-6):.0f} times its best before ({seen:.2f})."
            )
        seen = v if seen is None else min(seen, v)
    last = next((v for v in reversed(losses) if v is not None), None)
    guess = math.log(n_classes) if task == "classification" and n_classes > 1 else None
    if last is not None and guess is not None and last > EXPLODE_RATIO * guess:
        return (
            f"The validation loss is {last:.2f}, {last / guess:.0f} times that of an even guess "
            f"({guess:.2f}): the model is confidently wrong on many images."
        )
    return ""


def judge(
    ev,
    metrics: dict | None = None,
    history: Sequence[dict] = (),
    config: dict | None = None,
) -> Verdict:
    """The verdict on a model measured as `metrics` (default: `ev.metrics`, the evaluation of
    the model in use) on `ev`'s validation images; `history` and `config` (TrainConfig dict)
    are the run's, for the loss warning and the advice."""
    task = ev.task
    metrics = dict(ev.metrics if metrics is None else metrics)
    metric, _ = MAIN[task]
    value = metrics.get(metric)
    n = len(ev.items)
    bases = baselines(ev)
    base = bases[0] if bases else None
    on = f" on {n} validation image{'s' if n != 1 else ''}" if n else ""
    if value is None or base is None or not math.isfinite(value):
        level = "unknown"
        shown = "no figure" if value is None else _fmt(metric, value)
        headline = f"{SHORT[metric].capitalize()} {shown}{on}; there is no baseline to compare."
    else:
        level = level_of(skill(metric, value, base.value))
        better = "below" if metric == "mae" else "above"
        figure = f"{SHORT[metric]} {_fmt(metric, value)}{on}"
        if level == "no better than guessing":
            headline = (
                f"No better than guessing: {figure}, about what {base.how} scores "
                f"({_fmt(metric, base.value)})."
            )
        else:
            headline = (
                f"{level.capitalize()} model: {figure}, {better} the "
                f"{_fmt(metric, base.value)} of {base.how}."
            )
    v = Verdict(task, metric, value, level, headline, base)
    v.extra.append(METRIC_WORDS[metric])
    for b in bases[1:]:
        got = metrics.get(b.metric)
        if got is not None:
            v.extra.append(
                f"{SHORT[b.metric].capitalize()} {_fmt(b.metric, got)}; {b.how} gives "
                f"{_fmt(b.metric, b.value)}."
            )
    boom = exploding(history, task, len(ev.class_names))
    if boom:
        v.warnings.append(boom)
    v.next_steps = advice(v, history, config or {}, ev)
    return v


def advice(v: Verdict, history: Sequence[dict], config: dict, ev) -> list[str]:
    """What to try next, most promising first."""
    steps: list[str] = []
    lr = config.get("lr")
    if v.warnings:
        lower = f" (try {lr / 10:.0e} instead of {lr:.0e})" if isinstance(lr, float) else ""
        steps.append(f"Lower the learning rate{lower}.")
    if v.level == "good":  # nothing more to fix in the data or the recipe
        return [*steps, "Look at the images it gets wrong on Evaluate, then predict new ones."]
    if not v.weak and not v.warnings:
        steps.append("Look at the images it gets wrong on Evaluate: wrong labels hurt.")
    if config.get("weights") == "none":
        steps.append(
            "Start from pretrained weights (“Start from pretrained weights” on the Train page, "
            "--weights imagenet): from scratch needs far more images."
        )
    done = len(history)
    if done and done < FEW_EPOCHS and not v.warnings:
        steps.append(f"Train more epochs ({done} so far).")
    if ev.task in ("classification", "multilabel") and ev.class_names:
        per = len(ev.items) / max(len(ev.class_names), 1)
        if per < FEW_PER_CLASS:
            steps.append("Label more images: a few dozen per class make a big difference.")
    elif ev.task == "segmentation" and len(ev.items) < FEW_PER_CLASS:
        steps.append("Paint masks on more images.")
    if not steps:
        steps.append("Train longer or try a bigger network.")
    return steps


def for_run(project, run_id: str, history: Sequence[dict] | None = None) -> Verdict | None:
    """The verdict on run `run_id`'s model (its final figures on the validation images, or
    its best epoch's when it did not finish), with the baseline from the saved evaluation of
    the same validation images. None before any evaluation exists."""
    from engine.training.evaluation import load_evaluation
    from engine.training.runs import get_run

    ev = load_evaluation(project)
    if ev is None:
        return None
    rec = get_run(project, run_id)
    if history is None:
        history = run_history(rec.folder)
    metrics = rec.final_metrics or {}
    if not metrics and history:
        best = [h for h in history if h.get("epoch") == rec.best_epoch] or history[-1:]
        metrics = best[0].get("metrics", {})
    return judge(ev, metrics or None, history, rec.config)


def run_history(folder) -> list[dict]:
    """A run folder's history.json ([] when missing or unreadable: the verdict still stands)."""
    import json
    from pathlib import Path

    try:
        data = json.loads((Path(folder) / "history.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [h for h in data if isinstance(h, dict)] if isinstance(data, list) else []


def for_evaluation(project, ev) -> Verdict:
    """The verdict on the model in use (`ev`, its saved evaluation), with its run's history
    and settings when the run is known (plain json: the Evaluate page reads it at once)."""
    import json
    from pathlib import Path

    folder = Path(getattr(project, "path", project)) / "models" / "runs" / (ev.run_id or "-")
    history = run_history(folder) if ev.run_id else []
    try:
        config = json.loads((folder / "run.json").read_text(encoding="utf-8")).get("config", {})
    except (OSError, ValueError, AttributeError):
        config = {}
    return judge(ev, None, history, config if isinstance(config, dict) else {})

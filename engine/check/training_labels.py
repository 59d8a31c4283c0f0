"""Likely label mistakes among the training images, found with the model in use.

The check's other findings read the database, and its validation-image mistakes come from
models/evaluation.json, which training writes. The training images have no such record, so
this step runs the model over them (engine.predict; torch is imported only here): a labelled
training image whose prediction is confident and different from its label, highest loss
first. Training images are ones the model has fitted, so a confident disagreement there is a
strong hint. Opt-in (`run_check(..., training_labels=True)`), as it costs one forward pass per
image: about the time of one validation pass per thousand images on a CPU.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from engine.check.report import Finding

CONFIDENT = 0.8  # as engine.check.checks: a wrong prediction at least this sure
MAX_MISTAKES = 100
BATCH = 32
TASKS = ("classification", "multilabel")


def training_label_mistakes(
    project,
    recs,
    *,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[int, int], None] = lambda _d, _t: None,
) -> list[Finding]:
    """The finding for `recs`' labelled training images the model confidently disputes; an
    info finding when there is no model to ask; [] for tasks without class labels."""
    from engine.models.checkpoint import model_in_use_file

    if project.task not in TASKS:
        return []
    if model_in_use_file(project.path) is None:
        why = "Train a model first; it then checks the training images' labels."
        return [Finding("training_labels", "info", "Training labels not checked: no model", why)]
    from engine.imaging import BadImage
    from engine.predict.predictor import Predictor

    predictor = Predictor.from_path(project.path, device="cpu")
    names = list(predictor.output_names)
    todo = [r for r in recs if r.split == "train" and r.labels]
    cands: list[tuple[float, int, str]] = []  # (loss, image id, note)
    for start in range(0, len(todo), BATCH):
        check()
        xs, batch = [], []
        for r in todo[start : start + BATCH]:
            try:
                xs.append(predictor.prepare(str(project.image_path(r)))[0])
                batch.append(r)
            except (BadImage, OSError):
                continue  # the check's "unreadable" finding names it
        if xs:
            probs = predictor.forward(np.stack(xs), tta=False).numpy()
            for r, p in zip(batch, probs, strict=True):
                found = _doubt(project.task, r.labels, names, p)
                if found is not None:
                    cands.append((found[0], r.id, found[1]))
        progress(min(start + BATCH, len(todo)), len(todo))
    if not cands:
        return []
    cands.sort(key=lambda c: -c[0])
    cands = cands[:MAX_MISTAKES]
    return [Finding(
        "training_labels", "medium", f"{len(cands)} training image(s) may be mislabeled",
        f"The model in use is at least {CONFIDENT:.0%} sure of a different answer on images it "
        "trained on; highest loss first. Check the label (or the image).",
        [i for _l, i, _n in cands], notes={i: note for _l, i, note in cands},
    )]  # fmt: skip


def _doubt(task: str, labels, names: list[str], p: np.ndarray) -> tuple[float, str] | None:
    """(loss, note) when the model confidently disputes `labels`, else None."""
    if task == "classification":
        label = labels[0]
        if label not in names:
            return None  # a class added after training: the model cannot have an opinion
        top = int(np.argmax(p))
        if names[top] == label or p[top] < CONFIDENT:
            return None
        loss = -math.log(max(float(p[names.index(label)]), 1e-12))
        return loss, f"labelled {label}, model says {names[top]} ({p[top]:.0%})"
    said, loss = [], 0.0
    for name, q in zip(names, p, strict=False):
        if name in labels and q <= 1 - CONFIDENT:
            said.append(f"no {name} ({q:.0%})")
            loss += -math.log(max(float(q), 1e-12))
        elif name not in labels and q >= CONFIDENT:
            said.append(f"{name} ({q:.0%})")
            loss += -math.log(max(1.0 - float(q), 1e-12))
    if not said:
        return None
    return loss, f"labelled {', '.join(labels)}, model says {', '.join(said)}"

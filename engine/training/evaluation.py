"""Evaluation results: the model in use run over the validation split, saved for the GUI's view.

`PROJECT/models/evaluation.json` holds one entry per validation image (target, prediction,
probabilities, loss), the confusion matrix, per-class figures, the overall metrics and the
training run the model in use came from (`run_id`; "" for a model from before training runs,
see engine.training.runs); segmentation's predicted masks go to `evaluation.npz`.
`load_evaluation(project)` reads them back (numpy + json only: no torch needed to look at
results).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.models.checkpoint import MODELS_DIR

EVAL_JSON, EVAL_NPZ = "evaluation.json", "evaluation.npz"


@dataclass
class EvalItem:
    image_id: int
    name: str
    target: Any  # class name | list of label names | list of numbers | mask path
    prediction: Any  # same kind as target (segmentation: None; the mask is in masks())
    loss: float
    correct: bool | None = None  # None where right/wrong does not apply (regression, masks)
    probabilities: list[float] | None = None  # classification / multi-label, per class
    score: float | None = None  # segmentation: the image's pixel accuracy


@dataclass
class Evaluation:
    task: str
    class_names: list[str]
    items: list[EvalItem]
    confusion: np.ndarray | None
    per_class: dict
    metrics: dict
    targets: list[str] = field(default_factory=list)
    folder: str = ""
    run_id: str = ""  # the training run the evaluated model came from ("" if unknown)

    def most_wrong(self) -> list[EvalItem]:
        """Items with the highest loss first."""
        return sorted(self.items, key=lambda it: it.loss, reverse=True)

    def masks(self) -> dict[int, np.ndarray]:
        """Segmentation: image_id -> predicted class-index mask (image_size x image_size)."""
        p = Path(self.folder) / EVAL_NPZ
        if not p.is_file():
            return {}
        with np.load(p) as z:
            return {int(i): m for i, m in zip(z["image_ids"], z["masks"], strict=True)}


def save_evaluation(folder: Path, ev: Evaluation, masks: dict[int, np.ndarray] | None = None):
    """Write evaluation.json (and the masks' evaluation.npz) into `folder`, each atomically."""
    from engine.atomic import write_file
    from engine.project.store import atomic_write_text

    data = {
        "run_id": ev.run_id,
        "task": ev.task,
        "class_names": ev.class_names,
        "targets": ev.targets,
        "metrics": ev.metrics,
        "per_class": ev.per_class,
        "confusion": None if ev.confusion is None else ev.confusion.astype(int).tolist(),
        "items": [asdict(it) for it in ev.items],
    }
    if masks:
        ids = np.array(sorted(masks), dtype=np.int64)
        stack = np.stack([masks[int(i)] for i in ids])
        write_file(folder / EVAL_NPZ, lambda f: np.savez_compressed(f, image_ids=ids, masks=stack))
    else:
        (folder / EVAL_NPZ).unlink(missing_ok=True)  # masks of another model
    atomic_write_text(folder / EVAL_JSON, json.dumps(data))


def load_evaluation(project) -> Evaluation | None:
    """The last evaluation of `project` (a Project or its folder), or None if there is none."""
    folder = Path(getattr(project, "path", project)) / MODELS_DIR
    p = folder / EVAL_JSON
    if not p.is_file():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        items = [EvalItem(**it) for it in data["items"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    conf = data.get("confusion")
    return Evaluation(
        task=data["task"],
        class_names=list(data.get("class_names", [])),
        items=items,
        confusion=None if conf is None else np.asarray(conf, dtype=np.int64),
        per_class=data.get("per_class", {}),
        metrics=data.get("metrics", {}),
        targets=list(data.get("targets", [])),
        folder=str(folder),
        run_id=str(data.get("run_id") or ""),
    )

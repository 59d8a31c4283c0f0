"""Per-class precision, recall and F1 from a confusion matrix (rows: truth, columns: guess), for
the Evaluate page's per-class table. Plain numpy: works on any saved evaluation."""

from __future__ import annotations

import numpy as np


def class_scores(confusion, names) -> dict[str, dict]:
    """name -> {n, precision, recall, f1} (None where a ratio has nothing to divide by)."""
    cm = np.asarray(confusion, dtype=np.int64)
    out: dict[str, dict] = {}
    for c, name in enumerate(names):
        tp = int(cm[c, c])
        truth, guessed = int(cm[c].sum()), int(cm[:, c].sum())
        precision = tp / guessed if guessed else None
        recall = tp / truth if truth else None
        f1 = 2 * tp / (truth + guessed) if truth + guessed else None
        out[name] = {"n": truth, "precision": precision, "recall": recall, "f1": f1}
    return out

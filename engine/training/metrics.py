"""Losses and metrics per task, accumulated on the device and read out as plain floats.

Metric names reported each epoch (EpochEnd.metrics):
- classification: error_rate, accuracy
- multilabel: f1_macro, accuracy (per label and image), and f1/<label> for each label
- regression: mae, rmse (real units; targets are normalised internally), and mae/<target>
- segmentation: pixel_accuracy, miou, dice, and iou/<class> for each class
`MAIN_METRIC[task]` names the one that picks the best checkpoint and whether higher is better.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as tf

from engine.project.store import IGNORE_INDEX

MAIN_METRIC = {
    "classification": ("accuracy", True),
    "multilabel": ("f1_macro", True),
    "regression": ("mae", False),
    "segmentation": ("miou", True),
}
METRIC_NAMES = {
    "classification": ("error_rate", "accuracy"),
    "multilabel": ("f1_macro", "accuracy"),
    "regression": ("mae", "rmse"),
    "segmentation": ("pixel_accuracy", "miou", "dice"),
}


def make_loss(task: str, label_smoothing: float = 0.0):
    """loss(outputs, targets) -> mean loss tensor; reduction='none' variant via per_item_loss."""
    if task == "classification":
        return lambda out, y: tf.cross_entropy(out, y, label_smoothing=label_smoothing)
    if task == "multilabel":
        return lambda out, y: tf.binary_cross_entropy_with_logits(out, y.to(out.dtype))
    if task == "regression":
        return lambda out, y: tf.mse_loss(out, y.to(out.dtype))
    return lambda out, y: tf.cross_entropy(out, y, ignore_index=IGNORE_INDEX)


def per_item_loss(task: str, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One loss value per image (for the evaluation view's 'most wrong first')."""
    out = out.float()
    if task == "classification":
        return tf.cross_entropy(out, y, reduction="none")
    if task == "multilabel":
        return tf.binary_cross_entropy_with_logits(out, y.float(), reduction="none").mean(1)
    if task == "regression":
        return tf.mse_loss(out, y.float(), reduction="none").mean(1)
    pix = tf.cross_entropy(out, y, ignore_index=IGNORE_INDEX, reduction="none")
    valid = (y != IGNORE_INDEX).float()
    return (pix * valid).sum((1, 2)) / valid.sum((1, 2)).clamp(min=1)


def _f1(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1), 1.0)


class Metrics:
    """Accumulates one epoch's loss and task metrics; `compute()` gives a dict of floats."""

    def __init__(
        self, task: str, names: list[str], threshold: float = 0.5, target_mean=None, target_std=None
    ):
        self.task = task
        self.names = list(names)
        self.threshold = threshold
        self.n = len(names)
        self.mean = None if target_mean is None else torch.tensor(target_mean)
        self.std = None if target_std is None else torch.tensor(target_std)
        self.reset()

    def reset(self) -> None:
        self.loss_sum = 0.0
        self.count = 0
        self._stats: torch.Tensor | None = None
        self.one_class: tuple[str, float] | None = None  # set by compute(); see one_class_share

    def _add(self, t: torch.Tensor) -> None:
        t = t.detach().double()
        self._stats = t if self._stats is None else self._stats + t

    @torch.no_grad()
    def update(self, out: torch.Tensor, y: torch.Tensor, loss: float | torch.Tensor) -> None:
        """Add a batch (outputs are raw logits / normalised values)."""
        bs = y.shape[0]
        self.loss_sum += float(loss) * bs
        self.count += bs
        self._add(self.batch_stats(out, y))

    def batch_stats(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = out.float()
        if self.task in ("classification", "segmentation"):
            pred = out.argmax(1).flatten()
            y = y.flatten()
            keep = y != IGNORE_INDEX
            k = self.n
            idx = y[keep] * k + pred[keep]
            return torch.bincount(idx, minlength=k * k).reshape(k, k)
        if self.task == "multilabel":
            p = (torch.sigmoid(out) >= self.threshold).float()
            y = y.float()
            return torch.stack(
                [
                    (p * y).sum(0),
                    (p * (1 - y)).sum(0),
                    ((1 - p) * y).sum(0),
                    (p == y).float().sum(0),
                ]
            )
        std = self.std.to(out.device)
        err = (out - y.float()) * std
        return torch.stack([err.abs().sum(0), (err**2).sum(0)])

    def compute(self) -> dict[str, float]:
        res: dict[str, float] = {}
        loss = self.loss_sum / max(self.count, 1)
        if self._stats is None:
            return {"loss": loss}
        s = self._stats.cpu().numpy()
        if self.task in ("classification", "segmentation"):
            res.update(confusion_metrics(s, self.names, self.task))
            self.one_class = one_class_share(s, self.names)
        elif self.task == "multilabel":
            tp, fp, fn, agree = s
            f1 = _f1(tp, fp, fn)
            res["f1_macro"] = float(f1.mean())
            res["accuracy"] = float(agree.sum() / max(self.count * self.n, 1))
            res.update({f"f1/{n}": float(v) for n, v in zip(self.names, f1, strict=True)})
        else:
            abs_sum, sq_sum = s
            c = max(self.count, 1)
            res["mae"] = float(abs_sum.sum() / (c * len(abs_sum)))
            res["rmse"] = float(np.sqrt(sq_sum.sum() / (c * len(sq_sum))))
            if len(self.names) > 1:
                res.update(
                    {f"mae/{n}": float(v / c) for n, v in zip(self.names, abs_sum, strict=True)}
                )
        res["loss"] = loss
        return res


def confusion_metrics(cm: np.ndarray, names: list[str], task: str) -> dict[str, float]:
    """Metrics from a confusion matrix (rows = truth, columns = prediction)."""
    cm = np.asarray(cm, dtype=np.float64)
    total = cm.sum()
    acc = float(np.trace(cm) / total) if total else 0.0
    if task == "classification":
        return {"error_rate": 1.0 - acc, "accuracy": acc}
    tp = np.diag(cm)
    fp = cm.sum(0) - tp
    fn = cm.sum(1) - tp
    union = tp + fp + fn
    present = union > 0  # classes absent from truth and prediction do not count
    iou = np.where(present, tp / np.maximum(union, 1), np.nan)
    dice = np.where(present, 2 * tp / np.maximum(2 * tp + fp + fn, 1), np.nan)
    res = {
        "pixel_accuracy": acc,
        "miou": float(np.nanmean(iou)) if present.any() else 0.0,
        "dice": float(np.nanmean(dice)) if present.any() else 0.0,
    }
    res.update({f"iou/{n}": float(v) for n, v in zip(names, iou, strict=True) if not np.isnan(v)})
    return res


ONE_CLASS_SHARE = 0.98  # of the predictions going to one class, while the truth has several


def one_class_share(cm: np.ndarray, names: list[str]) -> tuple[str, float] | None:
    """(class, share) when at least ONE_CLASS_SHARE of the predictions in the confusion matrix
    `cm` (rows = truth, columns = prediction) are one class while at least two classes each
    make up 2 % or more of the truth: a model that answers one class for everything. Else None."""
    cm = np.asarray(cm, dtype=np.float64)
    total = cm.sum()
    if total <= 0:
        return None
    truth = cm.sum(1) / total
    pred = cm.sum(0) / total
    top = int(pred.argmax())
    if pred[top] >= ONE_CLASS_SHARE and int((truth >= 0.02).sum()) >= 2:
        return names[top], float(pred[top])
    return None


def one_class_warning(task: str, found: tuple[str, float] | None) -> str:
    """The plain-words warning for `one_class_share`'s finding ('' when there is none)."""
    if found is None:
        return ""
    name, share = found
    what = "validation pixels" if task == "segmentation" else "validation images"
    return (
        f"The model predicts '{name}' for {share:.1%} of the {what}: it has not learnt to tell "
        "the classes apart, and its metrics mean little yet. Train for more epochs, use "
        "pretrained weights, or label more images; if the training loss falls while this stays, "
        "try a lower learning rate."
    )


def is_better(task: str, value: float | None, best: float | None) -> bool:
    if value is None or not np.isfinite(value):
        return False
    if best is None:
        return True
    return value > best if MAIN_METRIC[task][1] else value < best

"""Runs a model over the validation split and builds the `Evaluation` the GUI shows.

`evaluate_valid` measures the model a Learner holds (a run's best model at the end of the run);
`evaluate_saved` measures a saved model file on the same images (the model in use, when a run
finishes, or a run the user chooses). Neither writes anything: engine.training.runs saves the
evaluation of the model in use.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.training.data import DataSpec
from engine.training.evaluation import EvalItem, Evaluation
from engine.training.metrics import per_item_loss
from engine.training.setup import fits_spec, saved_model_learner

Masks = dict[int, np.ndarray]  # segmentation: image id -> predicted class-index mask


def evaluate_valid(
    learner, spec: DataSpec, loader, *, threshold: float
) -> tuple[Evaluation, Masks]:
    """One no-grad pass over `loader` (the valid split): per-image results, confusion matrix,
    per-class figures and the overall metrics."""
    task = spec.task
    outs, ys, idxs, losses = [], [], [], []

    def on_batch(out, y, idx):
        outs.append(out.detach().cpu())
        ys.append(y.detach().cpu())
        idxs.append(idx.cpu())
        losses.append(per_item_loss(task, out, y).detach().cpu())

    metrics = {k: float(v) for k, v in learner.validate(loader, on_batch=on_batch).items()}
    ev = Evaluation(task, list(spec.class_names), [], None, {}, metrics, list(spec.targets))
    if not outs:
        return ev, {}
    out, y = torch.cat(outs).float(), torch.cat(ys)
    recs = [spec.valid[i] for i in torch.cat(idxs).tolist()]
    loss = torch.cat(losses).tolist()
    build = {
        "classification": _classification,
        "multilabel": _multilabel,
        "regression": _regression,
    }.get(task, _segmentation)
    masks = build(ev, spec, recs, out, y, loss, threshold)
    return ev, masks


def evaluate_saved(
    ckpt: dict, spec: DataSpec, config, *, device, control=None
) -> tuple[Evaluation, Masks] | None:
    """Measure a saved model on `spec`'s validation images; None when it predicts something
    else (another task, other classes or targets) and so cannot be compared."""
    if not fits_spec(ckpt, spec):
        return None
    learner, loader = saved_model_learner(ckpt, spec, config, device=device, control=control)
    threshold = float(ckpt.get("multilabel_threshold", 0.5))
    return evaluate_valid(learner, spec, loader, threshold=threshold)


def _probs(pr) -> list[float]:
    return [round(float(v), 6) for v in pr]


def _classification(ev: Evaluation, spec, recs, out, y, loss, threshold) -> Masks:
    names = ev.class_names
    prob = torch.softmax(out, 1).numpy()
    pred = prob.argmax(1)
    yt = y.numpy()
    k = len(names)
    ev.confusion = np.bincount(yt * k + pred, minlength=k * k).reshape(k, k)
    for r, t, p, pr, lo in zip(recs, yt, pred, prob, loss, strict=True):
        ev.items.append(
            EvalItem(
                r.image_id,
                Path(r.path).name,
                names[t],
                names[p],
                float(lo),
                bool(t == p),
                _probs(pr),
            )
        )
    for c, n in enumerate(names):
        tot = int(ev.confusion[c].sum())
        ev.per_class[n] = {
            "n": tot,
            "accuracy": float(ev.confusion[c, c] / tot) if tot else None,
        }
    return {}


def _multilabel(ev: Evaluation, spec, recs, out, y, loss, threshold) -> Masks:
    names = ev.class_names
    prob = torch.sigmoid(out).numpy()
    pred = prob >= threshold
    yt = y.numpy() > 0.5
    for r, t, p, pr, lo in zip(recs, yt, pred, prob, loss, strict=True):
        tl = [n for n, on in zip(names, t, strict=True) if on]
        pl = [n for n, on in zip(names, p, strict=True) if on]
        ev.items.append(
            EvalItem(
                r.image_id, Path(r.path).name, tl, pl, float(lo), bool((t == p).all()), _probs(pr)
            )
        )
    for c, n in enumerate(names):
        tp = int((pred[:, c] & yt[:, c]).sum())
        fp = int((pred[:, c] & ~yt[:, c]).sum())
        fn = int((~pred[:, c] & yt[:, c]).sum())
        ev.per_class[n] = {
            "n": int(yt[:, c].sum()),
            "precision": tp / (tp + fp) if tp + fp else None,
            "recall": tp / (tp + fn) if tp + fn else None,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
        }
    return {}


def _regression(ev: Evaluation, spec, recs, out, y, loss, threshold) -> Masks:
    mean = np.asarray(spec.target_mean)
    std = np.asarray(spec.target_std)
    pv = out.numpy() * std + mean
    tv = y.numpy() * std + mean
    for r, t, p, lo in zip(recs, tv, pv, loss, strict=True):
        ev.items.append(
            EvalItem(
                r.image_id,
                Path(r.path).name,
                [float(v) for v in t],
                [float(v) for v in p],
                float(lo),
            )
        )
    err = pv - tv
    for j, n in enumerate(spec.targets):
        ev.per_class[n] = {
            "mae": float(np.abs(err[:, j]).mean()),
            "rmse": float(np.sqrt((err[:, j] ** 2).mean())),
        }
    return {}


def _segmentation(ev: Evaluation, spec, recs, out, y, loss, threshold) -> Masks:
    names = ev.class_names
    pred = out.argmax(1)
    k = len(names)
    keep = y != 255
    confusion = torch.bincount((y[keep] * k + pred[keep]), minlength=k * k).reshape(k, k)
    ev.confusion = confusion.numpy()
    masks = {}
    for i, r in enumerate(recs):
        kk = keep[i]
        acc = float((pred[i][kk] == y[i][kk]).float().mean()) if kk.any() else None
        ev.items.append(
            EvalItem(r.image_id, Path(r.path).name, r.target, None, float(loss[i]), None, None, acc)
        )
        masks[r.image_id] = pred[i].to(torch.uint8).numpy()
    for c, n in enumerate(names):
        tp = ev.confusion[c, c]
        union = ev.confusion[c].sum() + ev.confusion[:, c].sum() - tp
        ev.per_class[n] = {
            "pixels": int(ev.confusion[c].sum()),
            "iou": float(tp / union) if union else None,
        }
    return masks

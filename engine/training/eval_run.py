"""Runs a trained model over the validation split and builds the `Evaluation` the GUI shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from engine.training.evaluation import EvalItem, Evaluation, save_evaluation
from engine.training.metrics import per_item_loss


def evaluate_valid(learner, spec, loader, threshold: float, folder: Path) -> Evaluation:
    """One no-grad pass over `loader` (valid split); writes evaluation.json (+ .npz)."""
    task = spec.task
    outs, ys, idxs, losses = [], [], [], []

    def on_batch(out, y, idx):
        outs.append(out.detach().cpu())
        ys.append(y.detach().cpu())
        idxs.append(idx.cpu())
        losses.append(per_item_loss(task, out, y).detach().cpu())

    metrics = learner.validate(loader, on_batch=on_batch)
    metrics = {k: float(v) for k, v in metrics.items()}
    if not outs:
        ev = Evaluation(task, list(spec.class_names), [], None, {}, metrics, list(spec.targets))
        save_evaluation(folder, ev)
        return ev
    out = torch.cat(outs).float()
    y = torch.cat(ys)
    idx = torch.cat(idxs).tolist()
    loss = torch.cat(losses).tolist()
    names = list(spec.class_names)
    items: list[EvalItem] = []
    confusion, per_class, masks = None, {}, None
    recs = [spec.valid[i] for i in idx]
    if task == "classification":
        prob = torch.softmax(out, 1).numpy()
        pred = prob.argmax(1)
        yt = y.numpy()
        k = len(names)
        confusion = np.bincount(yt * k + pred, minlength=k * k).reshape(k, k)
        for r, t, p, pr, lo in zip(recs, yt, pred, prob, loss, strict=True):
            items.append(
                EvalItem(
                    r.image_id,
                    Path(r.path).name,
                    names[t],
                    names[p],
                    float(lo),
                    bool(t == p),
                    [round(float(v), 6) for v in pr],
                )
            )
        for c, n in enumerate(names):
            tot = int(confusion[c].sum())
            per_class[n] = {"n": tot, "accuracy": float(confusion[c, c] / tot) if tot else None}
    elif task == "multilabel":
        prob = torch.sigmoid(out).numpy()
        pred = prob >= threshold
        yt = y.numpy() > 0.5
        for r, t, p, pr, lo in zip(recs, yt, pred, prob, loss, strict=True):
            tl = [n for n, on in zip(names, t, strict=True) if on]
            pl = [n for n, on in zip(names, p, strict=True) if on]
            items.append(
                EvalItem(
                    r.image_id,
                    Path(r.path).name,
                    tl,
                    pl,
                    float(lo),
                    bool((t == p).all()),
                    [round(float(v), 6) for v in pr],
                )
            )
        for c, n in enumerate(names):
            tp = int((pred[:, c] & yt[:, c]).sum())
            fp = int((pred[:, c] & ~yt[:, c]).sum())
            fn = int((~pred[:, c] & yt[:, c]).sum())
            per_class[n] = {
                "n": int(yt[:, c].sum()),
                "precision": tp / (tp + fp) if tp + fp else None,
                "recall": tp / (tp + fn) if tp + fn else None,
                "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None,
            }
    elif task == "regression":
        mean = np.asarray(spec.target_mean)
        std = np.asarray(spec.target_std)
        pv = out.numpy() * std + mean
        tv = y.numpy() * std + mean
        for r, t, p, lo in zip(recs, tv, pv, loss, strict=True):
            items.append(
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
            per_class[n] = {
                "mae": float(np.abs(err[:, j]).mean()),
                "rmse": float(np.sqrt((err[:, j] ** 2).mean())),
            }
    else:
        pred = out.argmax(1)
        k = len(names)
        keep = y != 255
        confusion = torch.bincount((y[keep] * k + pred[keep]), minlength=k * k).reshape(k, k)
        confusion = confusion.numpy()
        masks = {}
        for i, r in enumerate(recs):
            kk = keep[i]
            acc = float((pred[i][kk] == y[i][kk]).float().mean()) if kk.any() else None
            items.append(
                EvalItem(
                    r.image_id, Path(r.path).name, r.target, None, float(loss[i]), None, None, acc
                )
            )
            masks[r.image_id] = pred[i].to(torch.uint8).numpy()
        for c, n in enumerate(names):
            tp = confusion[c, c]
            union = confusion[c].sum() + confusion[:, c].sum() - tp
            per_class[n] = {
                "pixels": int(confusion[c].sum()),
                "iou": float(tp / union) if union else None,
            }
    ev = Evaluation(task, names, items, confusion, per_class, metrics, list(spec.targets))
    save_evaluation(folder, ev, masks)
    ev.folder = str(folder)
    return ev

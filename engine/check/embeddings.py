"""Near duplicates as the model sees them: cosine similarity of image embeddings.

dHash (engine.check.hashing) finds re-encoded and resized copies, but a 5 % crop or a
recoloured copy changes most of its 64 bits. A trained network's pooled features (the input of
its last linear layer) hardly move under such edits, so with a model in use the check also
compares those: each image's embedding, L2-normalised, against every other; pairs at or above
SIMILAR are near copies. Measured with EfficientNet-Lite0's ImageNet weights on real photos
(128 px): a 5 % crop 0.97, a hue-shifted and brightened copy 0.85, two different parts of one
photo 0.64-0.76, different photos at most 0.37. (Centring on the mean embedding was tried: it
pulls the recoloured copy down to 0.70.) Pairs already
in one dHash group are left to the dHash finding. Projects without a model, or whose model
was trained from scratch (its features, learnt from a few hundred images, call unrelated images
alike), keep dHash alone.
torch is imported only here, and only when a model exists.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from engine.check.report import Finding, Fix

SIMILAR = 0.8  # cosine similarity at or above this: a near copy (see the tests)
MAX_IMAGES = 5000  # above this the pass is skipped (one forward pass per image, n^2 compare)
BATCH = 32
TASKS = ("classification", "multilabel", "regression")


def embed(predictor, paths, *, check=lambda: None, progress=lambda _d, _t: None) -> np.ndarray:
    """(N, D) float32 embeddings of `paths` (the input of the model's last Linear layer), rows
    of unreadable files all NaN. ValueError when the model has no Linear layer."""
    import torch

    linears = [m for m in predictor.model.modules() if isinstance(m, torch.nn.Linear)]
    if not linears:
        raise ValueError("The model has no linear layer to take embeddings from.")
    seen: list = []
    hook = linears[-1].register_forward_hook(lambda _m, inp, _o: seen.append(inp[0].detach()))
    out: list[np.ndarray] = []
    try:
        for start in range(0, len(paths), BATCH):
            check()
            xs, ok = [], []
            for p in paths[start : start + BATCH]:
                try:
                    xs.append(predictor.prepare(str(p))[0])
                    ok.append(True)
                except Exception:  # noqa: BLE001 - the check's "unreadable" finding names it
                    ok.append(False)
            rows = np.full((len(ok), 0), np.nan, np.float32)
            if xs:
                seen.clear()
                predictor.forward(np.stack(xs), tta=False)
                feats = seen[-1].float().flatten(1).cpu().numpy()
                rows = np.full((len(ok), feats.shape[1]), np.nan, np.float32)
                rows[np.array(ok)] = feats
            out.append(rows)
            progress(min(start + BATCH, len(paths)), len(paths))
    finally:
        hook.remove()
    width = max((r.shape[1] for r in out), default=0)
    return np.concatenate([np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=np.nan)
                           for r in out]) if out else np.zeros((0, 0), np.float32)  # fmt: skip


def similar_pairs(emb: np.ndarray, threshold: float = SIMILAR) -> list[tuple[int, int, float]]:
    """(i, j, similarity) with i < j for rows whose cosine similarity >= threshold."""
    good = ~np.isnan(emb).any(axis=1)
    idx = np.flatnonzero(good)
    if len(idx) < 2:
        return []
    x = emb[idx].astype(np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
    sim = x @ x.T
    a, b = np.nonzero(np.triu(sim >= threshold, k=1))
    return [(int(idx[i]), int(idx[j]), float(sim[i, j])) for i, j in zip(a, b, strict=True)]


def _groups(n: int, pairs) -> list[list[int]]:
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _s in pairs:
        parent[root(i)] = root(j)
    members: dict[int, list[int]] = {}
    for i, _j, _s in pairs:
        members.setdefault(root(i), [])
    for k in range(n):
        if root(k) in members:
            members[root(k)].append(k)
    return [g for g in members.values() if len(g) > 1]


def _dhash_groups(recs, cache) -> dict[int, int]:
    from engine.check.hashing import NEAR_BITS, near_groups

    ok = [r for r in recs if r.sha1 in cache]
    if not ok:
        return {}
    labels = near_groups(np.array([cache[r.sha1][0] for r in ok], dtype=np.uint64), NEAR_BITS)
    return {r.id: int(g) for r, g in zip(ok, labels.tolist(), strict=True)}


def embedding_duplicates(
    project,
    recs,
    cache=None,
    *,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[int, int], None] = lambda _d, _t: None,
) -> list[Finding]:
    """The "leakage_model" finding: groups of images the model in use sees as near copies that
    sit on both sides of the train/validation split, not already one dHash group (`cache`:
    the check's sha1 -> (dHash, grey)). [] without a model, for segmentation, or for
    projects above MAX_IMAGES images."""
    from engine.models.checkpoint import model_in_use_file

    if project.task not in TASKS or len(recs) > MAX_IMAGES or len(recs) < 2:
        return []
    if model_in_use_file(project.path) is None:
        return []
    from engine.predict.predictor import Predictor

    predictor = Predictor.from_path(project.path, device="cpu")
    if (predictor.meta.get("config") or {}).get("weights", "none") == "none":
        return []  # features learnt from scratch on a small set do not measure likeness
    try:
        emb = embed(predictor, [project.abspath(r.file) for r in recs], check=check,
                    progress=progress)  # fmt: skip
    except ValueError:
        return []
    dhash_group = _dhash_groups(recs, cache or {})
    pairs = [
        (i, j, s)
        for i, j, s in similar_pairs(emb)
        if dhash_group.get(recs[i].id, -1 - i) != dhash_group.get(recs[j].id, -2 - j)
    ]
    groups = [[recs[k] for k in g] for g in _groups(len(recs), pairs)]
    leaky = [g for g in groups if len({r.split for r in g}) > 1]
    if not leaky:
        return []
    best = {}
    for i, j, s in pairs:
        for k in (i, j):
            best[recs[k].id] = max(best.get(recs[k].id, 0.0), s)
    moves: dict[int, str] = {}
    for g in leaky:  # into train when a member trains (the copies join their original there)
        splits = {r.split for r in g}
        target = (
            "train"
            if "train" in splits
            else max(splits, key=lambda s: sum(r.split == s for r in g))
        )
        moves.update({r.id: target for r in g if r.split != target})
    return [Finding(
        "leakage_model", "high",
        f"{len(leaky)} group(s) of near copies (as the model sees them) sit on both sides of "
        "the train/validation split",
        "Cropped, recoloured or edited copies of one photo: the model's image embeddings agree "
        f"(cosine similarity at least {SIMILAR}), though their perceptual hashes differ. The "
        "validation score is too good while they are split; move each group into one split.",
        [r.id for g in leaky for r in g], [[r.id for r in g] for g in leaky],
        {r.id: f"{r.split}, similarity {best[r.id]:.2f}" for g in leaky for r in g},
        Fix("set_split", "Move each group to one split", {"moves": moves}),
    )]  # fmt: skip

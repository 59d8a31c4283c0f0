"""Active learning: label the images the model is least sure of, or label at random?

A generated pool: 20x20 noise images with a 5x5 coloured patch at a random place; the patch's
colour (one of 3) is the class. Most patches are vivid (easy); a minority are faint, close to
the background (hard): random labeling keeps adding easy images and plateaus. Each round labels
k more images, chosen by `engine.interpret.uncertainty.scores` (margin) on the current model,
or at random, retrains a tiny CNN from scratch, and measures validation accuracy. Several seeds;
reports both mean curves and from how many labels uncertainty reaches random's final accuracy
and stays there ("labels_saved"; null when it does not). About a minute or two of CPU.

    python benchmarks/active_learning.py --json [--seeds 3] [--rounds 8]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

COLORS = np.array([[1.0, 0.1, 0.1], [0.1, 0.9, 0.1], [0.1, 0.2, 1.0]], np.float32)
SIZE, PATCH = 20, 5


def make_pool(n: int, rng: np.random.Generator, hard_frac: float = 0.3):
    """(images N x 3 x 20 x 20 float32, labels N) with a vivid or faint class-coloured patch."""
    x = rng.uniform(0.2, 0.8, (n, 3, SIZE, SIZE)).astype(np.float32)
    y = rng.integers(0, len(COLORS), n)
    hard = rng.random(n) < hard_frac
    alpha = np.where(hard, rng.uniform(0.1, 0.3, n), rng.uniform(0.7, 1.0, n))
    for i in range(n):
        r, c = rng.integers(0, SIZE - PATCH, 2)
        patch = 0.5 + alpha[i] * (COLORS[y[i]] - 0.5)
        noise = rng.uniform(-0.15, 0.15, (3, PATCH, PATCH))
        x[i, :, r : r + PATCH, c : c + PATCH] = patch[:, None, None] + noise
    return x, y


def tiny_net():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(),
        nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(32, len(COLORS)),
    )  # fmt: skip


def fit(x, y, seed: int, steps: int = 150):
    import torch

    torch.manual_seed(seed)
    net = tiny_net()
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        i = torch.randint(0, len(xt), (min(32, len(xt)),), generator=g)
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(xt[i]), yt[i]).backward()
        opt.step()
    return net.eval()


def probs(net, x) -> np.ndarray:
    import torch

    with torch.inference_mode():
        return net(torch.from_numpy(x)).softmax(1).numpy()


def run_strategy(strategy: str, seed: int, args) -> list[float]:
    """Validation accuracy after each round (labels = start + round * k)."""
    from engine.interpret.uncertainty import scores

    rng = np.random.default_rng(seed)
    pool_x, pool_y = make_pool(args.pool, rng)
    val_x, val_y = make_pool(args.valid, rng)
    labeled = list(rng.choice(args.pool, args.start, replace=False))
    accs = []
    for r in range(args.rounds + 1):
        net = fit(pool_x[labeled], pool_y[labeled], seed * 100 + r)
        accs.append(float((probs(net, val_x).argmax(1) == val_y).mean()))
        if r == args.rounds:
            break
        rest = np.setdiff1d(np.arange(args.pool), labeled)
        if strategy == "uncertainty":
            u = scores(probs(net, pool_x[rest]), "classification", "margin")
            pick = rest[np.argsort(-u)[: args.k]]
        else:
            pick = rng.choice(rest, args.k, replace=False)
        labeled += pick.tolist()
    return accs


def labels_to_reach(curve: list[float], target: float, labels: list[int]) -> int | None:
    """Labels from which the curve reaches `target` and stays there (None: it never does)."""
    for k, n in enumerate(labels):
        if all(acc >= target for acc in curve[k:]):
            return n
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--k", type=int, default=30)
    ap.add_argument("--start", type=int, default=30)
    ap.add_argument("--pool", type=int, default=2000)
    ap.add_argument("--valid", type=int, default=600)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    curves = {s: [run_strategy(s, seed, args) for seed in range(args.seeds)]
              for s in ("random", "uncertainty")}  # fmt: skip
    labels = [args.start + r * args.k for r in range(args.rounds + 1)]
    mean = {s: [round(statistics.mean(v), 4) for v in zip(*c, strict=True)]
            for s, c in curves.items()}  # fmt: skip
    target = mean["random"][-1]
    need = labels_to_reach(mean["uncertainty"], target, labels)
    result = {
        "labels": labels,
        "mean_accuracy": mean,
        "per_seed": {s: [[round(a, 4) for a in c] for c in cs] for s, cs in curves.items()},
        "random_final_accuracy": target,
        "uncertainty_labels_to_reach_it": need,
        "labels_saved": None if need is None else labels[-1] - need,
        "seeds": args.seeds,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Is the LR finder's suggestion the rate that trains best? Checked on a grid, per data set.

    python benchmarks/lr_finder_check.py --json [--seeds 2] [--only NAME,...] [--quick]

For each data set of benchmarks/quality.py (from scratch), and a fine-tuning case (the network
pretrained on shapes by benchmarks/transfer.py's task A, fine-tuned on task B with its default
frozen epoch), with the engine's default settings otherwise:
- suggested: `engine.training.train.lr_find(project, config, use_cache=False)`, geometric mean
  over the seeds, with the sweep's seconds and steps;
- grid: a training run at each of GRID rates per seed; each run's model is scored on the test
  split (accuracy or mean IoU), ties broken by the lower validation loss;
- best_grid: the rate with the best median score; ratio = max(s/b, b/s);
- near_best: the rates whose median score is within NEAR of the best (about one test image:
  the grid cannot tell those apart); ratio_near_best: the ratio to the closest of them;
  agrees: ratio_near_best <= 3.
Prints one JSON object {"datasets": [...]}.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_data as bd  # noqa: E402
import quality  # noqa: E402
import reference as ref  # noqa: E402
import transfer  # noqa: E402

GRID = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2)
NEAR = 0.03


def _config(arch: str, size: int, epochs: int, seed: int, weights: str = "none", **kw):
    from engine.config import TrainConfig

    return TrainConfig(arch=arch, weights=weights, image_size=size, epochs=epochs, device="cpu",
                       seed=seed, leave_one_core=True, **kw)  # fmt: skip


def suggest(ds, folder: Path, cfg) -> tuple[float, float, int]:
    """(suggestion, seconds, steps) of the engine's finder on a fresh project."""
    from engine.training.train import lr_find

    project = bd.make_project(ds, folder)
    try:
        t0 = time.perf_counter()
        res = lr_find(project, cfg, use_cache=False)
        return res.suggestion, time.perf_counter() - t0, len(res.lrs)
    finally:
        project.close()


def grid_run(ds, folder: Path, cfg) -> tuple[float, float]:
    """(test score, validation loss of the kept epoch) of one training run."""
    from engine.training.train import train

    project = bd.make_project(ds, folder)
    try:
        end = train(project, cfg)
        items = bd.project_items(project, "test")
        seg = ds.task == "segmentation"
        preds = ref.predict_engine(Path(end.checkpoint), items, seg, project.class_names())
        kept = next(h for h in end.history if h["epoch"] == end.best_epoch)
        return ref.score(preds, items, seg, len(ds.classes)), float(kept["valid_loss"])
    finally:
        project.close()


def check(name: str, ds, make_cfg, seeds, grid, work: Path, log) -> dict:
    sugg, secs, steps = [], [], []
    for seed in seeds:
        s, t, n = suggest(ds, work / f"{name}_find{seed}", make_cfg(seed))
        sugg.append(s), secs.append(t), steps.append(n)
        log(f"{name} seed {seed}: suggests {s:.2e} ({n} steps, {t:.0f} s)")
    table = {}
    for lr in grid:
        runs = [grid_run(ds, work / f"{name}_{lr:g}_{seed}", make_cfg(seed, lr=lr))
                for seed in seeds]  # fmt: skip
        table[lr] = (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
        log(f"{name} lr {lr:g}: score {table[lr][0]:.3f}, valid loss {table[lr][1]:.3f}")
    best = max(grid, key=lambda lr: (round(table[lr][0], 3), -table[lr][1]))
    suggested = math.exp(statistics.fmean(math.log(s) for s in sugg))
    ratio = max(suggested / best, best / suggested)
    near = [lr for lr in grid if table[lr][0] >= table[best][0] - NEAR]
    near_ratio = min(max(suggested / lr, lr / suggested) for lr in near)
    return {
        "name": name,
        "task": ds.task,
        "suggested": float(f"{suggested:.3g}"),
        "best_grid": best,
        "ratio": round(ratio, 2),
        "near_best": near,
        "ratio_near_best": round(near_ratio, 2),
        "agrees": near_ratio <= 3.0,
        "grid": {f"{lr:g}": round(v[0], 4) for lr, v in table.items()},
        "grid_valid_loss": {f"{lr:g}": round(v[1], 4) for lr, v in table.items()},
        "suggestions": [float(f"{s:.3g}") for s in sugg],
        "finder_s": round(statistics.median(secs), 1),
        "finder_steps": int(statistics.median(steps)),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--only", help="comma-separated names (quality's sets, glyph_transfer)")
    ap.add_argument("--quick", action="store_true", help="one tiny set, one seed, two rates")
    args = ap.parse_args(argv)
    seeds = [0] if args.quick else list(range(args.seeds))
    sets = quality.QUICK if args.quick else quality.SETS
    names = (
        args.only.split(",") if args.only else [*sets, *([] if args.quick else ["glyph_transfer"])]
    )
    grid = (1e-3, 1e-2) if args.quick else GRID

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    rows = []
    with tempfile.TemporaryDirectory(prefix="topdown-lrcheck-") as tmp:
        work = Path(tmp)
        for name in names:
            if name == "glyph_transfer":
                rows.append(_transfer_case(seeds, grid, work, log))
                continue
            kwargs, arch, size, epochs = quality.SETS.get(name) or sets[name]
            ds = getattr(bd, name)(work / name, **kwargs)

            def make_cfg(seed, arch=arch, size=size, epochs=epochs, **kw):
                return _config(arch, size, epochs, seed, **kw)

            rows.append(check(name, ds, make_cfg, seeds, grid, work, log))
    print(json.dumps({"datasets": rows}))
    return 0


def _transfer_case(seeds, grid, work: Path, log) -> dict:
    """Fine-tuning: weights pretrained on task A, task B's few images, one frozen epoch."""
    _, _, weights = transfer.pretrain(work)
    b = bd.glyphs(work / "b", transfer.TASK_B, per_class=43, size=48, seed=200, name="task_b",
                  fractions=(10 / 43, 3 / 43, 30 / 43))  # fmt: skip

    def make_cfg(seed, **kw):
        return _config(transfer.ARCH, transfer.SIZE, 10, seed, weights=str(weights),
                       batch_size=transfer.B_BATCH, **kw)  # fmt: skip

    row = check("glyph_transfer", b, make_cfg, seeds, grid, work, log)
    row["task"] = "classification (fine-tuned)"
    return row


if __name__ == "__main__":
    sys.exit(main())

"""Transfer learning proven without a download: pretrain here, fine-tune on a related task.

    python benchmarks/transfer.py --json [--seeds 5] [--quick]

1. Pretrain: a network trains from scratch, through the engine, on task A: generated shapes
   (circle / square / triangle), 150 per class, 20 epochs (benchmarks/bench_data.py `glyphs`).
   Its models/best.pt is the weights file.
2. Task B, different but related: other shapes (cross / ring / bar), about 10 training images
   per class (a larger test split, 30 per class, for a stable score). The same few images train
   three ways, each with the engine's defaults apart from weights, epochs, seed and batch size
   8 (30 images in batches of 32 would make one step an epoch):
   - scratch: weights "none";
   - fine_tune: weights PATH (the engine's local-weights path), 1 of the epochs frozen (the
     default recipe: frozen head, then unfrozen with discriminative rates);
   - unfrozen_only: weights PATH, freeze_epochs 0.
   Accuracy on B's test split via the engine's predictor; medians over seeds.
Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_data as bd  # noqa: E402
import reference as ref  # noqa: E402

TASK_A = ("circle", "square", "triangle")
TASK_B = ("cross", "ring", "bar")
ARCH, SIZE = "resnet18", 32
B_BATCH = 8


def _train(ds, folder: Path, **cfg_kw):
    """(test accuracy, seconds, model path) of one engine run on a fresh project."""
    from engine.config import TrainConfig
    from engine.training.train import train

    project = bd.make_project(ds, folder)
    try:
        cfg = TrainConfig(arch=ARCH, image_size=SIZE, device="cpu", leave_one_core=True, **cfg_kw)
        t0 = time.perf_counter()
        end = train(project, cfg)
        seconds = time.perf_counter() - t0
        items = bd.project_items(project, "test")
        preds = ref.predict_engine(Path(end.checkpoint), items, False, project.class_names())
        return ref.score(preds, items, False, len(ds.classes)), seconds, Path(end.checkpoint)
    finally:
        project.close()


def pretrain(work: Path, per_class: int = 150, epochs: int = 20):
    """(accuracy on A's test split, seconds, weights file) of the network trained on task A."""
    a = bd.glyphs(work / "a", TASK_A, per_class=per_class, size=48, seed=100, name="task_a")
    return _train(a, work / "pa", weights="none", epochs=epochs, seed=0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="tiny sets, one seed, few epochs")
    args = ap.parse_args(argv)
    quick = args.quick
    seeds = [0] if quick else list(range(args.seeds))
    pre_n, pre_epochs, b_epochs = (12, 1, 2) if quick else (150, 20, 10)

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="topdown-transfer-") as tmp:
        work = Path(tmp)
        acc_a, sec_a, weights = pretrain(work, pre_n, pre_epochs)
        log(f"pretrained on A: accuracy {acc_a:.3f} in {sec_a:.0f} s -> {weights}")
        runs: dict[str, list[float]] = {"scratch": [], "fine_tune": [], "unfrozen_only": []}
        variants = {
            "scratch": {"weights": "none"},
            "fine_tune": {"weights": str(weights), "freeze_epochs": 1},
            "unfrozen_only": {"weights": str(weights), "freeze_epochs": 0},
        }
        for seed in seeds:
            # ~10 train images per class, 3 valid, 30 test: fractions of 43 per class
            b = bd.glyphs(work / f"b{seed}", TASK_B, per_class=43, size=48, seed=200 + seed,
                          name="task_b", fractions=(10 / 43, 3 / 43, 30 / 43))  # fmt: skip
            for name, kw in variants.items():
                acc, sec, _ = _train(b, work / f"{name}{seed}", epochs=b_epochs, seed=seed,
                                     batch_size=B_BATCH, **kw)  # fmt: skip
                runs[name].append(acc)
                log(f"task B seed {seed} {name}: {acc:.3f} in {sec:.0f} s")
    med = {k: round(statistics.median(v), 4) for k, v in runs.items()}
    print(json.dumps({
        "pretrain": {"task": list(TASK_A), "accuracy": round(acc_a, 4), "seconds": round(sec_a, 1)},
        "task": list(TASK_B),
        "train_per_class": 10,
        "arch": ARCH,
        "image_size": SIZE,
        "epochs": b_epochs,
        "batch_size": B_BATCH,
        "seeds": seeds,
        **med,
        "runs": {k: [round(x, 4) for x in v] for k, v in runs.items()},
        "fine_tune_gain": round(med["fine_tune"] - med["scratch"], 4),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

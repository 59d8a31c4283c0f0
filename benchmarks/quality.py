"""Model quality: the engine with its default settings against a plain PyTorch loop, from scratch.

    python benchmarks/quality.py --json [--seeds 3] [--only NAME,...] [--quick]

First both sides run once untimed on a tiny set (imports, first kernels, caches), so that no
side pays the process's one-time costs. Then for each data set (see benchmarks/bench_data.py;
lfw_faces and photo_shapes need scikit-image) and seed, engine and reference back to back in
the same process, the order alternating from seed to seed:
- engine: a new Project, the images imported through the engine's import API, then
  `engine.training.train.train(project, TrainConfig(...))` with the defaults except the network,
  image size, epochs and seed chosen per data set below, weights "none" (no download here),
  device "cpu" and leave_one_core (one torch thread per spare core, as the GUI runs it; the
  reference gets the same number: OpenMP threads on a busy 2-core machine otherwise spin and
  make timings meaningless). Timed from the call to its return: LR search (none by default),
  first epoch and the final evaluation included. Its kept model (models/best.pt) predicts the
  test split through the engine's Predictor.
- reference: benchmarks/reference.py (torchvision's reference recipe: AdamW, one-cycle,
  random-resized crop and flip) on the same network, image size, epochs, batch size and splits;
  its last model predicts the test split.
Both are scored the same way on the test split, which neither saw: accuracy (classification) or
mean IoU (segmentation). Prints one JSON object {"datasets": [...]}, medians over the seeds;
`time_ratio` is the median over seeds of engine_s / reference_s (each pair ran back to back,
so a busy machine slows both alike); `cpu_ratio` the same for the process's CPU seconds (less
sensitive to other jobs on the machine, but blind to waits on the disk). `--quick`: one tiny
generated set, one seed, one epoch (a smoke test of the script).
"""

from __future__ import annotations

import argparse
import json
import shutil
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

# name -> (builder kwargs, arch, image size, epochs[, builder in bench_data when not `name`]);
# small enough for a 2-core CPU. street_scenes: the CamVid layout on real photos (issue 17),
# with the default U-Net and with LR-ASPP (whose BatchNorm momentum is 0.01)
SETS = {
    "lfw_faces": ({}, "resnet18", 32, 10),
    "colour_shapes": ({"n": 150, "size": 48}, "resnet18", 32, 6),
    "photo_shapes": ({"n": 150, "size": 48}, "unet_resnet18", 48, 20),
    "street_scenes": ({"n": 150}, "unet_resnet18", 64, 12),
    "street_scenes_lraspp": ({"n": 150}, "lraspp_mobilenet_v3_large", 64, 12, "street_scenes"),
}
QUICK = {"colour_shapes": ({"n": 24, "size": 32}, "resnet18", 32, 1)}


def run_engine(ds, folder: Path, arch: str, size: int, epochs: int, seed: int):
    """(test metric, seconds, CPU seconds) of the engine's default recipe on a fresh project."""
    from engine.config import TrainConfig
    from engine.training.train import train

    project = bd.make_project(ds, folder)
    try:
        cfg = TrainConfig(arch=arch, weights="none", image_size=size, epochs=epochs, device="cpu",
                          seed=seed, leave_one_core=True)  # fmt: skip
        t0, c0 = time.perf_counter(), time.process_time()
        end = train(project, cfg)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        items = bd.project_items(project, "test")
        seg = ds.task == "segmentation"
        preds = ref.predict_engine(Path(end.checkpoint), items, seg, project.class_names())
        return ref.score(preds, items, seg, len(ds.classes)), seconds, cpu
    finally:
        project.close()


def run_reference(ds, folder: Path, arch: str, size: int, epochs: int, seed: int):
    """(test metric, seconds, CPU seconds) of the reference loop on the same project splits."""
    project = bd.make_project(ds, folder)
    try:
        train_items = bd.project_items(project, "train")
        valid_items = bd.project_items(project, "valid")
        test_items = bd.project_items(project, "test")
    finally:
        project.close()
    seg = ds.task == "segmentation"
    c0 = time.process_time()
    model, seconds = ref.train_reference(
        arch=arch,
        task=ds.task,
        n_classes=len(ds.classes),
        train_items=train_items,
        valid_items=valid_items,
        size=size,
        epochs=epochs,
        seed=seed,
    )
    cpu = time.process_time() - c0
    preds = ref.predict_reference(model, test_items, size, seg)
    return ref.score(preds, test_items, seg, len(ds.classes)), seconds, cpu


def measure(name: str, spec, seeds: list[int], work: Path, log) -> dict:
    kwargs, arch, size, epochs = spec[:4]
    ds = getattr(bd, spec[4] if len(spec) > 4 else name)(work / name / "data", **kwargs)
    runs = {"engine": [], "reference": []}
    for i, seed in enumerate(seeds):
        order = ("engine", "reference") if i % 2 == 0 else ("reference", "engine")
        for who in order:
            fn = run_engine if who == "engine" else run_reference
            folder = work / name / f"{who}_{seed}"
            metric, seconds, cpu = fn(ds, folder, arch, size, epochs, seed)
            shutil.rmtree(folder, ignore_errors=True)
            runs[who].append((metric, seconds, cpu))
            log(f"{name} seed {seed} {who}: {metric:.3f} in {seconds:.1f} s ({cpu:.1f} s CPU)")
    med = {k: [statistics.median(r[i] for r in v) for i in range(3)] for k, v in runs.items()}
    pairs = list(zip(runs["engine"], runs["reference"], strict=True))
    ratio = statistics.median(e[1] / r[1] for e, r in pairs)
    cpu_ratio = statistics.median(e[2] / r[2] for e, r in pairs)
    return {
        "name": name,
        "task": ds.task,
        "metric": "accuracy" if ds.task == "classification" else "mean_iou",
        "engine": round(med["engine"][0], 4),
        "reference": round(med["reference"][0], 4),
        "engine_s": round(med["engine"][1], 1),
        "reference_s": round(med["reference"][1], 1),
        "time_ratio": round(ratio, 2),
        "cpu_ratio": round(cpu_ratio, 2),
        "arch": arch,
        "image_size": size,
        "epochs": epochs,
        "seeds": seeds,
        "engine_runs": [round(r[0], 4) for r in runs["engine"]],
        "reference_runs": [round(r[0], 4) for r in runs["reference"]],
        "engine_runs_s": [round(r[1], 1) for r in runs["engine"]],
        "reference_runs_s": [round(r[1], 1) for r in runs["reference"]],
        "source": ds.source,
    }


def warm_up(work: Path) -> None:
    """Both sides once, untimed, on a tiny set: the process's one-time costs (imports, first
    kernels, caches) then fall on neither side's figures."""
    kwargs, arch, size, epochs = QUICK["colour_shapes"]
    ds = bd.colour_shapes(work / "data", **kwargs)
    run_engine(ds, work / "engine", arch, size, epochs, 0)
    run_reference(ds, work / "reference", arch, size, epochs, 0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    ap.add_argument("--quick", action="store_true", help="one tiny set, one seed, one epoch")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--only", help="comma-separated data set names")
    args = ap.parse_args(argv)
    import torch

    from engine.devices import set_cpu_threads

    torch.set_num_threads(set_cpu_threads(leave_one_core=True))  # the reference uses as many
    sets = QUICK if args.quick else SETS
    if args.only:
        sets = {k: v for k, v in SETS.items() if k in args.only.split(",")}
    seeds = [0] if args.quick else list(range(args.seeds))

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="topdown-quality-") as tmp:
        if not args.quick:
            warm_up(Path(tmp) / "warm_up")
        rows = [measure(name, spec, seeds, Path(tmp), log) for name, spec in sets.items()]
    print(json.dumps({"datasets": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

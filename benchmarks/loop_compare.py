"""The training loop before and after a change, side by side: the same figures, and how long.

    python benchmarks/loop_compare.py --json [--old /work/wt/before] [--new .] [--repeats 3]
        [--n 160] [--epochs 4] [--freeze-epochs 1] [--image-size 64] [--arch resnet18]

Generates N images of three shapes (circles, squares, triangles in random colours on noisy
backgrounds, every 5th one for validation) and a local weights file (a randomly initialised
body, so the run has a frozen phase and an unfrozen one; `--weights none`: from scratch), then
trains the same project with the same settings and seed, in alternation (old, new, old, ...),
each in a child process whose PYTHONPATH is that tree (`--old`: a checkout of the code before
the change; `--new`: this one). Each child builds its own project from the same files and split,
calls `engine.training.train.train`, and reports the history and the seconds `train` took.
`--nproc 2`: the same under `torchrun --nproc-per-node 2` (DDP on gloo, the global batch
split between the processes), rank 0 reporting.

Prints one JSON object: per-epoch train loss, valid loss and accuracy of both trees,
`same_figures` (every figure of every repeat within 1e-6 of the old tree's first run),
`figures_move` (each series changes across epochs: a figure that never moves is a bug), and
`time_ratio` (median seconds of the new tree over the old tree's; `fastest_ratio` the same of
the fastest runs, `paired_ratio` the median of each repeat's new / old (run back to back) and
`cpu_ratio` of the median CPU seconds of rank 0: less sensitive to other jobs on a shared
machine).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-6
SHAPES = ("circle", "square", "triangle")


def make_images(folder: Path, n: int, size: int, seed: int) -> list[dict]:
    """N PNGs, a shape each; returns [{file, label, split}]."""
    import numpy as np
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(n):
        label = SHAPES[i % len(SHAPES)]
        bg = rng.integers(0, 256, 3)
        arr = np.clip(bg + rng.normal(0, 30, (size, size, 3)), 0, 255).astype(np.uint8)
        im = Image.fromarray(arr)
        d = ImageDraw.Draw(im)
        r = int(rng.integers(size // 6, size // 3))
        cx, cy = (int(v) for v in rng.integers(r, size - r, 2))
        col = tuple(int(c) for c in rng.integers(0, 256, 3))
        box = [cx - r, cy - r, cx + r, cy + r]
        if label == "circle":
            d.ellipse(box, fill=col)
        elif label == "square":
            d.rectangle(box, fill=col)
        else:
            d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=col)
        name = f"img_{i:05d}.png"
        im.save(folder / name)
        items.append({"file": name, "label": label, "split": "valid" if i % 5 == 4 else "train"})
    return items


def make_weights(path: Path, arch: str, seed: int) -> None:
    """A randomly initialised torchvision network's state dict: a local 'pretrained' file."""
    import torch
    import torchvision

    torch.manual_seed(seed)
    torch.save(torchvision.models.get_model(arch, weights=None).state_dict(), path)


# ---------------------------------------------------------------------------- one child run
def make_project(job: dict) -> None:
    """The project of `job["items"]`, in `job["work"]` (the tree on PYTHONPATH's store)."""
    import shutil

    from engine.imaging import file_sha1
    from engine.project.store import NewImage, Project

    src, work = Path(job["images"]), Path(job["work"])
    project = Project.create(work, "classification")
    new = []
    for it in job["items"]:
        rel = f"images/{it['file']}"
        shutil.copy(src / it["file"], work / rel)
        new.append(NewImage(file=rel, name=it["file"], source=str(src / it["file"]),
                            sha1=file_sha1(work / rel), width=job["source_size"],
                            height=job["source_size"], split=it["split"],
                            labels=[it["label"]]))  # fmt: skip
    project.add_images(new)
    project.close()


def child(job: dict) -> dict | None:
    """Make the project and/or train once with the tree on PYTHONPATH (imported here, never
    in the parent); under torchrun each process trains and rank 0 reports."""
    import engine
    from engine.config import TrainConfig
    from engine.project.store import Project
    from engine.training import distributed
    from engine.training.train import train

    if job["step"] in ("make", "both"):
        make_project(job)
    if job["step"] == "make":
        return None
    distributed.setup("cpu")  # nothing without torchrun
    project = Project.open(job["work"])
    cfg = TrainConfig(**job["config"])  # as given (from_dict would migrate an unversioned dict)
    t0, c0 = time.perf_counter(), time.process_time()
    try:
        end = train(project, cfg)
    finally:
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        project.close()
        main = distributed.is_main()
        distributed.teardown()
    out = {"engine": engine.__file__, "seconds": seconds, "cpu_s": cpu, "history": end.history}
    return out if main else None


def run_child(tree: Path, job: dict, nproc: int) -> dict:
    """One run in `tree`: in one process, or made there and trained by `nproc` under torchrun."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(k, None)
    python = [sys.executable]
    torchrun = [*python, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node"]
    steps = (
        [("both", python)] if nproc == 1 else [("make", python), ("train", [*torchrun, str(nproc)])]
    )
    for step, launcher in steps:
        cmd = [
            *launcher,
            str(Path(__file__).resolve()),
            "--child",
            json.dumps({**job, "step": step}),
        ]
        done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"the run in {tree} failed:\n{done.stderr[-3000:]}")
    out = json.loads(done.stdout.strip().splitlines()[-1])
    if not Path(out["engine"]).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"{tree}: the child imported {out['engine']}, not this tree's engine")
    return out


# ---------------------------------------------------------------------------- comparison
def series(history: list[dict]) -> dict:
    return {
        "train_loss": [h["train_loss"] for h in history],
        "valid_loss": [h["valid_loss"] for h in history],
        "accuracy": [h["metrics"]["accuracy"] for h in history],
        "frozen": [h["frozen"] for h in history],
    }


def max_diff(a: dict, b: dict) -> float:
    """Largest difference of any figure (inf when the epochs differ)."""
    worst = 0.0
    for k in ("train_loss", "valid_loss", "accuracy"):
        if len(a[k]) != len(b[k]) or a["frozen"] != b["frozen"]:
            return float("inf")
        worst = max([worst, *(abs(x - y) for x, y in zip(a[k], b[k], strict=True))])
    return worst


def moves(s: dict) -> bool:
    return all(max(s[k]) - min(s[k]) > TOL for k in ("train_loss", "valid_loss", "accuracy"))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    ap.add_argument("--old", default="/work/wt/before", help="the tree before the change")
    ap.add_argument("--new", default=str(ROOT), help="the tree after it (default: this one)")
    ap.add_argument("--repeats", type=int, default=3, help="runs of each tree, alternating")
    ap.add_argument("--n", type=int, default=160, help="images to generate")
    ap.add_argument("--epochs", type=int, default=4, help="epochs, frozen ones included")
    ap.add_argument("--freeze-epochs", type=int, default=1)
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--weights", default="random-file",
                    help="'random-file' (a local file of random weights: a frozen phase), "
                         "'none' (from scratch) or a path")  # fmt: skip
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--nproc", type=int, default=1,
                    help="processes per run: 2 or more trains under torchrun (DDP, gloo); "
                         "--batch-size is then the global batch")  # fmt: skip
    ap.add_argument("--all-cores", action="store_true",
                    help="torch threads on every core (default: one core left free, so that "
                         "other jobs on a shared machine disturb the timing less)")  # fmt: skip
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        out = child(json.loads(args.child))
        if out is not None:
            print(json.dumps(out))
        return 0

    old, new = Path(args.old), Path(args.new)
    with tempfile.TemporaryDirectory(prefix="loop_compare_") as tmp:
        tmp = Path(tmp)
        source = args.image_size + args.image_size // 4
        items = make_images(tmp / "images", args.n, source, args.seed)
        weights = args.weights
        if weights == "random-file":
            weights = str(tmp / f"{args.arch}_random.pth")
            make_weights(Path(weights), args.arch, args.seed)
        config = {
            "arch": args.arch, "weights": weights, "image_size": args.image_size,
            "batch_size": args.batch_size, "epochs": args.epochs,
            "freeze_epochs": args.freeze_epochs, "lr": args.lr, "seed": args.seed,
            "device": "cpu", "num_workers": 0, "early_stopping_patience": 0,
            "leave_one_core": not args.all_cores,
        }  # fmt: skip
        runs: dict[str, list[dict]] = {"old": [], "new": []}
        for r in range(args.repeats):
            order = (("old", old), ("new", new)) if r % 2 == 0 else (("new", new), ("old", old))
            for name, tree in order:
                job = {"images": str(tmp / "images"), "work": str(tmp / f"{name}_{r}"),
                       "items": items, "source_size": source, "config": config}  # fmt: skip
                runs[name].append(run_child(tree, job, args.nproc))
    figures = {k: [series(run["history"]) for run in v] for k, v in runs.items()}
    ref = figures["old"][0]
    diffs = [max_diff(ref, f) for k in ("old", "new") for f in figures[k]]
    secs = {k: [round(run["seconds"], 3) for run in v] for k, v in runs.items()}
    cpu = {k: [round(run["cpu_s"], 3) for run in v] for k, v in runs.items()}
    med = {k: statistics.median(v) for k, v in secs.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    pairs = (secs["new"], secs["old"])  # repeat r of each ran back to back
    print(json.dumps({
        "settings": {**config, "weights": args.weights, "n": args.n, "repeats": args.repeats,
                     "nproc": args.nproc},
        "old": {"tree": str(old), **figures["old"][0], "seconds": secs["old"], "cpu_s": cpu["old"]},
        "new": {"tree": str(new), **figures["new"][0], "seconds": secs["new"], "cpu_s": cpu["new"]},
        "same_figures": max(diffs) <= TOL,
        "max_abs_diff": max(diffs),
        "figures_move": moves(figures["old"][0]) and moves(figures["new"][0]),
        "median_seconds": {k: round(v, 3) for k, v in med.items()},
        "time_ratio": round(med["new"] / med["old"], 4),
        "fastest_ratio": round(min(secs["new"]) / min(secs["old"]), 4),
        "paired_ratio": round(statistics.median(n / o for n, o in zip(*pairs, strict=True)), 4),
        "cpu_ratio": round(med_cpu["new"] / med_cpu["old"], 4),
    }, indent=2))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

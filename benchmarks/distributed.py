"""Distributed training throughput: the same run on 1, 2, ... processes under torchrun.

    python benchmarks/distributed.py --json [--nproc 1,2] [--device cpu|cuda] [--repeats R]

Makes a project of N generated images (two tinted classes with noise), then for each process
count runs `torchrun --standalone --nproc-per-node P main.py train PROJECT --events jsonl` with
the same per-process batch (so the global batch grows with P, as when adding GPUs) and times
the training batches from the event lines: images/s of an epoch = its batches x global batch /
(time of its last BatchEnd - time of its first), median over the epochs after the first (the
first fills the image cache), then the median over --repeats runs made in alternation.
Validation and start-up are left out.

Reported: img_s (all processes), img_s_per_proc, scaling_efficiency = img_s / (P x img_s of one
process), and speedup = img_s / img_s of one process. On a CPU each process gets one thread on
a 2-core machine (a core left free, as a GPU each would be its own); with --share-cores one
process takes all cores as threads and P processes a share each, so little or no gain is
expected. On a multi-GPU machine use --device cuda --nproc 1,2,4,8 (one process per GPU).
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

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import TrainConfig  # noqa: E402
from engine.event_stream import decode  # noqa: E402
from engine.imaging import file_sha1  # noqa: E402
from engine.project.store import NewImage, Project  # noqa: E402


def make_project(path: Path, n: int, size: int) -> None:
    """N PNGs of two classes (red / blue tint plus noise), a quarter of them for validation."""
    rng = np.random.default_rng(0)
    project = Project.create(path, "classification")
    items = []
    for i in range(n):
        label = ("red", "blue")[i % 2]
        tint = (200, 40, 40) if label == "red" else (40, 60, 200)
        noise = rng.integers(-40, 41, (size, size, 3))
        arr = np.clip(np.full((size, size, 3), tint) + noise, 0, 255)
        rel = f"images/img_{i:05d}.png"
        Image.fromarray(arr.astype(np.uint8)).save(path / rel)
        split = "valid" if i % 8 >= 6 else "train"
        sha = file_sha1(path / rel)
        items.append(NewImage(file=rel, name=Path(rel).name, source="generated", sha1=sha,
                              width=size, height=size, split=split, labels=[label]))  # fmt: skip
    project.add_images(items)
    project.close()


def run_once(project: Path, nproc: int, args) -> dict:
    """One training run on `nproc` processes; the batch timings from its event lines."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", str(nproc), str(ROOT / "main.py"), "train", str(project),
           "--events", "jsonl", "--arch", args.arch, "--weights", "none",
           "--epochs", str(args.epochs), "--freeze-epochs", "0", "--lr", "0.001",
           "--image-size", str(args.image_size), "--device", args.device,
           "--batch-size", str(args.batch_per_proc * nproc)]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    stamps: dict[int, list[float]] = {}
    for line in proc.stdout:
        now = time.perf_counter()
        try:
            ev = decode(line)
        except ValueError:
            continue
        if type(ev).__name__ == "BatchEnd":
            stamps.setdefault(ev.epoch, []).append(now)
    err = proc.stderr.read()
    if proc.wait() != 0:
        raise SystemExit(f"{nproc} process(es) failed:\n{err[-3000:]}")
    batch = args.batch_per_proc * nproc
    rates = [
        (len(ts) - 1) * batch / (ts[-1] - ts[0]) for ep, ts in sorted(stamps.items()) if ep >= 1
    ]
    return {
        "nproc": nproc,
        "global_batch": batch,
        "img_s": statistics.median(rates),
        "img_s_per_proc": statistics.median(rates) / nproc,
        "epochs_timed": len(rates),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--nproc", default="1,2", help="process counts to compare (first = base)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--arch", default="resnet18")
    ap.add_argument("--n", type=int, default=512, help="images in the project")
    ap.add_argument("--image-size", type=int, default=64)
    ap.add_argument("--batch-per-proc", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--share-cores", action="store_true",
                    help="CPU: one process takes every core as threads, P processes a share "
                    "each (default: one core left free, so on 2 cores 1 thread per process, "
                    "like one GPU each)")  # fmt: skip
    ap.add_argument("--repeats", type=int, default=1, help="runs per count (median reported)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 96 images, 32 px")
    args = ap.parse_args()
    if args.quick:
        args.n, args.image_size, args.epochs, args.batch_per_proc = 96, 32, 2, 8
    counts = [int(v) for v in args.nproc.split(",")]
    runs: dict[int, list[dict]] = {n: [] for n in counts}
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp) / "project"
        make_project(base, args.n, max(args.image_size, 32))
        for rep in range(args.repeats):  # alternating, so machine noise hits every count alike
            for nproc in counts:
                project = Path(tmp) / f"p{nproc}_{rep}"
                subprocess.run(["cp", "-r", str(base), str(project)], check=True)
                p = Project.open(project)
                cfg = TrainConfig(leave_one_core=not args.share_cores, seed=0)
                p.save_settings(cfg.to_dict())
                p.close()
                runs[nproc].append(run_once(project, nproc, args))
    rows = []
    for nproc in counts:
        img_s = statistics.median(r["img_s"] for r in runs[nproc])
        rows.append({**runs[nproc][0], "img_s": img_s, "img_s_per_proc": img_s / nproc,
                     "img_s_each_repeat": [r["img_s"] for r in runs[nproc]]})  # fmt: skip
    one = rows[0]["img_s"] / rows[0]["nproc"]
    for r in rows:
        r["speedup"] = r["img_s"] / rows[0]["img_s"]
        r["scaling_efficiency"] = r["img_s"] / (r["nproc"] * one)
    out = {"device": args.device, "cpu_cores": os.cpu_count(), "arch": args.arch,
           "image_size": args.image_size, "batch_per_proc": args.batch_per_proc,
           "n_images": args.n, "share_cores": args.share_cores, "runs": rows}  # fmt: skip
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for r in rows:
            print(f"{r['nproc']} process(es): {r['img_s']:.1f} img/s "
                  f"({r['img_s_per_proc']:.1f} per process), speedup {r['speedup']:.2f}, "
                  f"efficiency {r['scaling_efficiency']:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Export time and measured parity, per model and format, in one process.

    python benchmarks/export_parity.py --json [--size 128] [--repeats 3] [--quick]

For resnet18 (classification) and two segmentation models (lraspp_mobilenet_v3_large and
unet_resnet18) it makes a generated project of SIZE px images (tests/unit/trainproj.py),
trains one epoch from random weights (a few steps: enough to move BatchNorm statistics and
weights off their initial values), then exports it REPEATS times with each exporter:
ONNX via torch's TorchScript-based exporter (Topdown's default), ONNX via the torch.export
("dynamo") exporter, and TorchScript. Reported per export: median export seconds (writing the
file) and total seconds (load + write + parity + card), and the parity check's figures on the
validation images: max abs diff, the largest output, diff / largest output, and agreement of
labels / mask pixels. dynamo_over_legacy is the ratio of median export times.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODELS = {  # name -> (task, arch)
    "resnet18": ("classification", "resnet18"),
    "lraspp": ("segmentation", "lraspp_mobilenet_v3_large"),
    "unet_resnet18": ("segmentation", "unet_resnet18"),
}
EXPORTS = {  # label -> (format, onnx exporter)
    "onnx": ("onnx", "legacy"),
    "onnx_dynamo": ("onnx", "dynamo"),
    "torchscript": ("torchscript", "legacy"),
}


def trained_project(folder: Path, task: str, arch: str, size: int, n: int) -> Path:
    from tests.unit.trainproj import make_project, tiny_config

    from engine.training.train import train

    project = make_project(folder, task, n=n, size=size)
    train(project, tiny_config(arch=arch, image_size=size, batch_size=8, freeze_epochs=0))
    project.close()
    return folder


def measure(project: Path, out: Path, fmt: str, exporter: str, repeats: int) -> dict:
    from engine.export.api import export_model

    runs = []
    for i in range(repeats):
        runs.append(export_model(project, fmt, out / str(i), onnx_exporter=exporter))
    p = runs[-1].parity
    return {
        "export_s": round(statistics.median(r.export_seconds for r in runs), 3),
        "total_s": round(statistics.median(r.seconds for r in runs), 3),
        "repeats": repeats,
        "n_images": p.n_images,
        "max_abs_diff": p.max_abs_diff,
        "max_abs_output": round(p.max_abs_output, 6),
        "relative_diff": p.max_abs_diff / p.max_abs_output if p.max_abs_output else None,
        "tolerance": p.tolerance,
        "agreement": p.agreement,
        "agreement_of": p.agreement_of,
        "file_mb": round(os.path.getsize(runs[-1].model_path) / 1e6, 1),
        "ok": p.ok,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--n", type=int, default=40, help="images per project (a quarter validate)")
    ap.add_argument("--quick", action="store_true", help="1 repeat, 64 px, resnet18 + lraspp")
    args = ap.parse_args()
    if args.quick:
        args.size, args.repeats = 64, 1
    import torch

    torch.manual_seed(0)
    result: dict = {
        "image_size": args.size,
        "torch": torch.__version__,
        "cpu_threads": torch.get_num_threads(),
        "models": {},
    }
    names = ["resnet18", "lraspp"] if args.quick else list(MODELS)
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            task, arch = MODELS[name]
            t0 = time.perf_counter()
            project = trained_project(Path(tmp) / name, task, arch, args.size, args.n)
            row: dict = {"task": task, "arch": arch, "train_s": round(time.perf_counter() - t0, 1)}
            for label, (fmt, exporter) in EXPORTS.items():
                row[label] = measure(project, Path(tmp) / f"{name}-{label}", fmt, exporter,
                                     args.repeats)  # fmt: skip
                if not args.json:
                    print(name, label, row[label], file=sys.stderr)
            row["dynamo_over_legacy"] = round(
                row["onnx_dynamo"]["export_s"] / row["onnx"]["export_s"], 2
            )
            result["models"][name] = row
    print(json.dumps(result, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

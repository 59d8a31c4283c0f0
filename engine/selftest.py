"""The self-test: does this install work? The smoke test for a bundle and for a user, run by
`topdown-cli self-test` (cli/selftest.py) and `topdown --self-test` (gui/selftest.py).

Makes a small demo project in a temp folder, trains one short epoch from scratch (no download,
tiny images) on the CPU, predicts one image, and prints ONE JSON line: ``ok``, ``seconds``,
the torch / torchvision / CUDA versions, whether CUDA is usable and which device ``auto`` picks.
When a CUDA GPU is visible, a convolution and a matrix product run on it too, so a bundle that
lost a CUDA library fails here. Exit code 0 when every step passed, 1 (with ``ok: false`` and
the failing step's error) otherwise. The GUI adds its window step (gui/selftest.py).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from engine.devices import DEVICE_CHOICES

# A step gets the self-test's work folder and the results so far; what it returns is recorded.
Step = Callable[[Path, dict], dict | None]


def add_options(p: argparse.ArgumentParser) -> None:
    """Options shared by `topdown-cli self-test` and `topdown --self-test`."""
    p.add_argument(
        "--device",
        default="cpu",
        choices=DEVICE_CHOICES,
        help="device to train on (default cpu; 'auto' uses the GPU when there is one)",
    )
    p.add_argument("--images", type=int, default=16, help="demo images (default 16)")
    p.add_argument("--image-size", type=int, default=32, help="training image size (default 32)")
    p.add_argument(
        "--workers",
        type=int,
        default=0,
        help="DataLoader worker processes (default 0; >0 checks worker start-up in a bundle)",
    )


def _versions(result: dict) -> dict:
    """Import torch/torchvision and run a torchvision C++ op (its libraries load lazily)."""
    import torch
    import torchvision
    from torchvision.ops import nms

    from engine.devices import device_label, pick_device

    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [20, 20, 30, 30]])
    kept = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5).tolist()
    if kept != [0, 2]:
        raise RuntimeError(f"torchvision.ops.nms gave {kept}, expected [0, 2]")
    result.update(
        torch=torch.__version__,
        torchvision=torchvision.__version__,
        cuda=torch.version.cuda,
        cuda_available=torch.cuda.is_available(),
        device=device_label(pick_device("auto")),
    )
    return {}


def _cuda(result: dict) -> dict:
    """A convolution (cuDNN) and a matrix product (cuBLAS) on the GPU, checked against CPU."""
    import torch

    x = torch.randn(2, 3, 16, 16)
    w = torch.randn(4, 3, 3, 3)
    a = torch.randn(64, 64)
    want = (torch.nn.functional.conv2d(x, w).sum().item(), (a @ a).sum().item())
    got = (
        torch.nn.functional.conv2d(x.cuda(), w.cuda()).sum().item(),
        (a.cuda() @ a.cuda()).sum().item(),
    )
    for g, e in zip(got, want, strict=True):
        if abs(g - e) > 1e-2 * max(1.0, abs(e)):
            raise RuntimeError(f"GPU result {g:.4f} differs from CPU {e:.4f}")
    return {"gpu": torch.cuda.get_device_name(0), "cudnn": torch.backends.cudnn.version()}


def _train(work: Path, args: argparse.Namespace) -> dict:
    from engine.config import TrainConfig
    from engine.project.demo import create_demo_project
    from engine.training.train import train

    project = create_demo_project(work / "demo", "classification", n=args.images, size=48)
    try:
        cfg = TrainConfig(
            weights="none",  # no download: the self-test must work offline
            epochs=1,
            freeze_epochs=0,
            lr=1e-3,  # skip the LR finder
            image_size=args.image_size,
            batch_size=8,
            device=args.device,
            num_workers=args.workers,
            cache_mb=64,
        )
        end = train(project, cfg)
    finally:
        project.close()
    if not end.history or not end.checkpoint or not Path(end.checkpoint).is_file():
        raise RuntimeError("training finished without saving a model")
    return {"arch": cfg.arch, "valid_loss": round(float(end.history[-1]["valid_loss"]), 4)}


def _predict(work: Path) -> dict:
    from engine.predict.predictor import Predictor

    image = next(iter(sorted((work / "demo" / "images").iterdir())))
    pred = Predictor.from_path(work / "demo", device="cpu").predict(image)
    total = sum(pred.probs.values())
    if pred.label not in pred.probs or abs(total - 1.0) > 1e-3:
        raise RuntimeError(f"prediction is not a probability over the classes: {pred.probs}")
    return {"image": image.name, "label": pred.label}


def self_test(args: argparse.Namespace, extra_steps: Sequence[tuple[str, Step]] = ()) -> dict:
    """Run every step in a temp folder; the result dict (``ok`` False names the failed step)."""
    start = time.perf_counter()
    result: dict = {
        "ok": False,
        "seconds": None,
        "python": platform.python_version(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "trained_on": args.device,
        "workers": args.workers,
        "steps": {},
    }
    with tempfile.TemporaryDirectory(prefix="topdown-selftest-") as tmp:
        work = Path(tmp)
        steps: list[tuple[str, Step]] = [("torch", lambda w, r: _versions(r))]
        steps.append(("cuda", lambda w, r: _cuda(r) if r.get("cuda_available") else None))
        steps += [("train", lambda w, r: _train(w, args)), ("predict", lambda w, r: _predict(w))]
        steps += list(extra_steps)
        for name, step in steps:
            t0 = time.perf_counter()
            try:
                info = step(work, result)
            except BaseException as e:  # noqa: BLE001 - every failure is reported, not raised
                if isinstance(e, KeyboardInterrupt):
                    raise
                result["error"] = f"{name}: {type(e).__name__}: {e}"
                result["traceback"] = traceback.format_exc(limit=8)
                break
            if info is not None:
                result["steps"][name] = {"seconds": round(time.perf_counter() - t0, 2), **info}
        else:
            result["ok"] = True
    result["seconds"] = round(time.perf_counter() - start, 2)
    return result


def report(result: dict) -> int:
    """Print the result as one JSON line; the exit code (0 ok, 1 failed)."""
    print(json.dumps(result), flush=True)
    return 0 if result["ok"] else 1

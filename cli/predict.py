"""`topdown predict MODEL_OR_PROJECT IMAGE_OR_DIR...`: predict from the command line.

One line per image: readable text, or with --json one JSON object (path + label and
probabilities, or values, or mask file and class fractions). A bad file gives an object with
"error" and the run goes on. Segmentation masks are saved as palette PNGs in --masks-dir.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.common import UsageError
from engine.devices import DEVICE_CHOICES
from engine.errors import shown
from engine.imaging import is_image_name


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict",
        help="predict images with a trained model",
        description="Predict images with a trained model (a .pt file or a project folder).",
    )
    p.add_argument("model", metavar="MODEL_OR_PROJECT", help="a model .pt file or project folder")
    p.add_argument("images", metavar="IMAGE_OR_DIR", nargs="+", help="image files or folders")
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.add_argument("--tta", action="store_true", help="average with the mirrored image")
    p.add_argument(
        "--masks-dir", default="masks_pred", help="where segmentation masks go (./masks_pred)"
    )
    p.add_argument(
        "--heatmap",
        metavar="DIR",
        help="write Grad-CAM overlay PNGs (where the model looks) into DIR; classification and "
        "multi-label models",
    )
    p.add_argument(
        "--heatmap-class",
        metavar="CLASS",
        action="append",
        default=[],
        help="also make a heatmap for this class (repeatable); default: the predicted class(es)",
    )
    p.add_argument("--heatmap-opacity", type=float, default=0.5, help=argparse.SUPPRESS)
    p.add_argument("--device", default="auto", choices=DEVICE_CHOICES)
    p.add_argument("--batch-size", type=int, default=16, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def expand_inputs(items: list[str]) -> list[str]:
    """Files as given; folders become their image files (recursively, sorted, no hidden)."""
    out: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = [
                f
                for f in p.rglob("*")
                if f.is_file()
                and is_image_name(f)
                and not any(part.startswith(".") for part in f.relative_to(p).parts)
            ]
            out.extend(str(f) for f in sorted(found))
        else:
            out.append(str(p))
    return out


def _mask_name(path: str, used: set[str]) -> str:
    stem = Path(path).stem or "image"
    name, k = f"{stem}.png", 1
    while name in used:
        name, k = f"{stem}_{k}.png", k + 1
    used.add(name)
    return name


def _record(pred, masks_dir: Path, used: set[str]) -> dict:
    from engine.events import Skipped
    from engine.predict.predictor import save_mask_png

    if isinstance(pred, Skipped):
        return {"path": pred.path, "error": pred.reason}
    rec: dict = {"path": pred.path}
    if pred.task == "classification":
        rec.update(label=pred.label, probs=_round(pred.probs))
    elif pred.task == "multilabel":
        rec.update(label=pred.label, labels=pred.labels, probs=_round(pred.probs))
    elif pred.task == "regression":
        rec["values"] = pred.values
    else:
        target = masks_dir / _mask_name(pred.path, used)
        save_mask_png(pred.mask, target)
        rec.update(mask=str(target), class_fractions=_round(pred.class_fractions))
        rec["size"] = [int(pred.mask.shape[1]), int(pred.mask.shape[0])]
    return rec


def _heatmaps(predictor, path: str, args: argparse.Namespace, used: set[str]) -> dict:
    """Grad-CAM overlays of one image into --heatmap DIR; class -> PNG path."""
    from engine.imaging import load_rgb
    from engine.interpret.gradcam import explain, save_overlays

    heat = explain(predictor, path, classes=args.heatmap_class)
    stem = _mask_name(path, used)[: -len(".png")]
    return save_overlays(heat, load_rgb(path), args.heatmap, stem, args.heatmap_opacity)


def _round(d: dict) -> dict:
    return {k: round(float(v), 6) for k, v in d.items()}


def _text(rec: dict, targets: list[str]) -> str:
    path = rec["path"]
    if "error" in rec:
        return f"{path}: ERROR {rec['error']}"
    if "values" in rec:
        names = targets if len(targets) == len(rec["values"]) else range(len(rec["values"]))
        return f"{path}: " + ", ".join(
            f"{n}={v:.4g}" for n, v in zip(names, rec["values"], strict=True)
        )
    if "mask" in rec:
        parts = ", ".join(f"{k} {v:.1%}" for k, v in rec["class_fractions"].items())
        return f"{path}: mask {rec['mask']} ({parts})"
    top = sorted(rec["probs"].items(), key=lambda kv: -kv[1])[:3]
    probs = ", ".join(f"{k} {v:.1%}" for k, v in top)
    if "labels" in rec:
        line = f"{path}: {', '.join(rec['labels']) or '(no label)'} [{probs}]"
    else:
        line = f"{path}: {rec['label']} [{probs}]"
    if rec.get("heatmaps"):
        line += " heatmaps: " + ", ".join(rec["heatmaps"].values())
    return line


def run(args: argparse.Namespace) -> int:
    from engine.predict.predictor import Predictor

    predictor = Predictor.from_path(args.model, device=args.device)
    if args.heatmap and predictor.task not in ("classification", "multilabel"):
        raise UsageError(
            f"--heatmap needs a classification or multi-label model, this one is {predictor.task}."
        )
    unknown = [c for c in args.heatmap_class if c not in predictor.output_names]
    if unknown:
        raise UsageError(
            f"--heatmap-class {unknown[0]!r} is not a class of this model "
            f"({', '.join(predictor.output_names)})."
        )
    paths = expand_inputs(args.images)
    if not paths:
        raise UsageError("no image files found in " + ", ".join(args.images))
    masks_dir = Path(args.masks_dir)
    used: set[str] = set()
    used_heat: set[str] = set()
    n_ok = 0

    def on_item(pred) -> None:
        nonlocal n_ok
        rec = _record(pred, masks_dir, used)
        if args.heatmap and "error" not in rec:
            rec["heatmaps"] = _heatmaps(predictor, pred.path, args, used_heat)
        n_ok += "error" not in rec
        line = json.dumps(rec) if args.json else shown(_text(rec, predictor.targets))
        print(line, flush=True)

    predictor.predict_many(paths, on_item=on_item, tta=args.tta, batch_size=args.batch_size)
    if n_ok < len(paths):
        print(f"{len(paths) - n_ok} of {len(paths)} file(s) could not be used.", file=sys.stderr)
    return 0 if n_ok else 1

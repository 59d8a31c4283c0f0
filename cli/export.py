"""`topdown export PROJECT_OR_MODEL --format onnx|torchscript [--out DIR]`: write the trained
model as ONNX or TorchScript with a model.json card, checked against PyTorch at export time.

Prints one summary line (or the report as JSON with --json). Errors - no trained model, an
unknown format, a folder that cannot be written, a parity failure - print one line and exit 1.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "export",
        help="export the trained model to ONNX or TorchScript",
        description=(
            "Export a project's model in use (models/best.pt) or a model file to ONNX or "
            "TorchScript, with a model.json card beside it; the validation images are run "
            "through PyTorch and the exported file, and the export fails if they disagree."
        ),
    )
    p.add_argument("model", metavar="PROJECT_OR_MODEL", help="a project folder or a model .pt")
    p.add_argument("--format", default="onnx", help="onnx (default) or torchscript")
    p.add_argument("--out", metavar="DIR", help="output folder (default PROJECT/export/FORMAT)")
    p.add_argument(
        "--max-images",
        type=int,
        default=64,
        help="validation images used for the parity check (default 64)",
    )
    p.add_argument(
        "--onnx-exporter",
        default="legacy",
        help="legacy (default; TorchScript-based, fast) or dynamo (torch.export-based)",
    )
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from engine.export.api import export_model

    report = export_model(
        args.model, args.format, args.out, max_images=args.max_images,
        onnx_exporter=args.onnx_exporter,
    )  # fmt: skip
    print(json.dumps(report.to_dict()) if args.json else report.summary())
    return 0

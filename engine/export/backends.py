"""The two export formats: how a model is written (ONNX, TorchScript) and how the written file
is run again for the parity check (onnxruntime, torch.jit.load).

The exported graph takes RGB pixels scaled to 0..1 (float32, N x 3 x S x S, any N) and does the
mean/std normalisation itself, so a user's preprocessing is only "resize, divide by 255".
onnx / onnxruntime / onnxscript are imported here only, lazily: nothing else in Topdown
needs them.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

FORMATS = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt"}
ONNX_EXPORTERS = ("legacy", "dynamo")
OPSET = 17  # legacy exporter: opset 17 runs on onnxruntime >= 1.14 (2023) and most runtimes
INPUT_NAME, OUTPUT_NAME = "image", "output"
TRACE_BATCH = 2  # the example batch; the parity check runs other batch sizes (1, 16)


class MissingDependency(RuntimeError):
    """An optional package the chosen format needs is not installed."""


def normalized_model(model: Any, mean: np.ndarray, std: np.ndarray) -> Any:
    """`model` with (x - mean) / std in front, so the exported graph takes 0..1 pixels."""
    import torch
    from torch import nn

    class Normalized(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model
            as_buffer = torch.as_tensor
            self.register_buffer("mean", as_buffer(mean, dtype=torch.float32).view(1, 3, 1, 1))
            self.register_buffer("std", as_buffer(std, dtype=torch.float32).view(1, 3, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.model((x - self.mean) / self.std)

    return Normalized().eval()


def require(fmt: str, exporter: str = "legacy") -> dict[str, str]:
    """Import what `fmt` needs; {package: version}, or MissingDependency naming the packages."""
    if fmt != "onnx":
        return {}
    names = ["onnx", "onnxruntime"] + (["onnxscript"] if exporter == "dynamo" else [])
    versions, missing = {}, []
    for name in names:
        try:
            versions[name] = __import__(name).__version__
        except ImportError:
            missing.append(name)
    if missing:
        raise MissingDependency(
            f"ONNX export needs {', '.join(missing)}; install them with "
            "pip install 'topdown[export]' (or pip install onnx onnxruntime onnxscript)."
        )
    return versions


def write_model(fmt: str, wrapped: Any, size: int, path: Path, exporter: str = "legacy") -> dict:
    """Write `wrapped` (a Normalized model) to `path` in `fmt`; returns facts for the card."""
    import torch

    example = torch.rand(TRACE_BATCH, 3, size, size)
    with warnings.catch_warnings():
        # both torch.jit and the legacy ONNX exporter announce their deprecation on every call
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        with torch.no_grad():
            if fmt == "torchscript":
                traced = torch.jit.trace(wrapped, example)
                buf = io.BytesIO()  # torch.jit's file writer aborts the process on a full disk
                torch.jit.save(traced, buf)
                Path(path).write_bytes(buf.getbuffer())  # an OSError here is caught and cleaned
                return {"exporter": "torch.jit.trace"}
            if exporter == "dynamo":
                return _onnx_dynamo(wrapped, example, path)
            return _onnx_legacy(wrapped, example, path)


def _onnx_legacy(wrapped: Any, example: Any, path: Path) -> dict:
    import torch

    torch.onnx.export(
        wrapped,
        (example,),
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
    )
    _check_onnx(path)
    return {"exporter": "torch.onnx.export (TorchScript-based, dynamo=False)", "opset": OPSET}


def _onnx_dynamo(wrapped: Any, example: Any, path: Path) -> dict:
    import torch

    batch = torch.export.Dim("batch", min=1, max=1 << 16)
    program = torch.onnx.export(
        wrapped,
        (example,),
        dynamo=True,
        input_names=[INPUT_NAME],
        output_names=[OUTPUT_NAME],
        dynamic_shapes={"x": {0: batch}},
        verbose=False,
    )
    program.save(str(path), external_data=False)
    opset = _check_onnx(path)
    return {"exporter": "torch.onnx.export (dynamo=True)", "opset": opset}


def _check_onnx(path: Path) -> int:
    import onnx

    onnx.checker.check_model(str(path))
    model = onnx.load(str(path), load_external_data=False)
    return next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)


def runner(fmt: str, path: Path) -> Callable[[np.ndarray], np.ndarray]:
    """A function batch -> output that runs the written file the way a user would."""
    if fmt == "onnx":
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        session = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

        def run_onnx(batch: np.ndarray) -> np.ndarray:
            return session.run(None, {INPUT_NAME: batch})[0]

        return run_onnx
    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        module = torch.jit.load(str(path), map_location="cpu").eval()

    def run_ts(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return module(torch.from_numpy(batch)).numpy()

    return run_ts

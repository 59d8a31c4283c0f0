"""`export_model`: a trained Topdown model as an ONNX or TorchScript file plus model.json,
checked against PyTorch before anything is written.

The model is read through engine.predict.predictor (the one checkpoint reader). The file is
written under a temporary name in the output folder, run again (onnxruntime / torch.jit.load)
on the project's validation images, and only renamed into place when the outputs agree within
the tolerance of engine.export.parity; on any failure the temporary files (and an output
folder this call created) are removed, so an old export is never half-replaced.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import EngineError, storage_errno, storage_error
from engine.export import backends
from engine.export.parity import ParityResult, check_parity, parity_inputs
from engine.imaging import file_sha256
from engine.project.sweep import sweep, sweep_temps

FORMATS = tuple(backends.FORMATS)
CARD_NAME = "model.json"
DEFAULT_MAX_IMAGES = 64


class ExportError(EngineError):
    """An export that cannot be done; the message is one line naming the file or folder."""


@dataclass
class ExportReport:
    """What an export wrote and measured (plain values; safe to hand to the GUI)."""

    format: str
    task: str
    arch: str
    source: str  # the checkpoint exported
    model_path: str
    card_path: str
    export_seconds: float  # writing the file
    seconds: float  # everything: loading, writing, parity, card
    parity: ParityResult

    def to_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "parity"}
        return {**d, "parity": self.parity.to_dict()}

    def summary(self) -> str:
        return (
            f"Exported {self.arch} ({self.task}) to {self.model_path} in {self.seconds:.1f} s; "
            f"{self.parity.summary()}. Card: {self.card_path}"
        )


def export_model(
    project_or_model_path: str | os.PathLike,
    fmt: str = "onnx",
    out_dir: str | os.PathLike | None = None,
    *,
    max_images: int = DEFAULT_MAX_IMAGES,
    onnx_exporter: str = "legacy",
    control: Any = None,
) -> ExportReport:
    """Export a project's model in use (models/best.pt) or a model file to `fmt` ("onnx" |
    "torchscript") in `out_dir` (default PROJECT/export/FMT); see the module docstring.
    `control.check()` (engine.control.RunControl) is called between steps for cancel."""
    t0 = time.perf_counter()
    fmt = str(fmt).lower()
    if fmt not in FORMATS:
        raise ExportError(f"Unknown export format {fmt!r}; choose one of: {', '.join(FORMATS)}.")
    if onnx_exporter not in backends.ONNX_EXPORTERS:
        raise ExportError(f"Unknown ONNX exporter {onnx_exporter!r}; choose legacy or dynamo.")
    try:
        versions = backends.require(fmt, onnx_exporter)
    except backends.MissingDependency as e:
        raise ExportError(str(e)) from None
    predictor, project_path = _load(project_or_model_path)
    out = _output_folder(out_dir, project_path, Path(predictor.source), fmt)
    created = _prepare_folder(out)
    sweep_temps(out)  # what an export killed mid-write left (engine.project.sweep)
    if project_path is not None:  # and what a killed training left in the project
        sweep(project_path)
    final, card_path = out / backends.FORMATS[fmt], out / CARD_NAME
    tmp = out / f".{final.name}.{os.getpid()}.tmp"
    card_tmp = out / f".{CARD_NAME}.{os.getpid()}.tmp"
    try:
        t1 = time.perf_counter()
        facts = _write(predictor, fmt, tmp, onnx_exporter)
        export_seconds = time.perf_counter() - t1
        parity = _parity(predictor, project_path, fmt, tmp, max_images, control)
        if not parity.ok:
            raise ExportError(
                f"Parity check failed: the exported {fmt} model differs from PyTorch by up to "
                f"{parity.max_abs_diff:.3g} (tolerance {parity.tolerance:.3g}) on "
                f"{parity.n_images} {parity.inputs}; nothing was written to {out}."
            )
        facts = {"file": final.name, "sha256": file_sha256(tmp), **facts}
        card = _card(predictor, fmt, facts, parity, versions, project_path)
        card_tmp.write_text(json.dumps(card, indent=2), encoding="utf-8")
        os.replace(tmp, final)
        os.replace(card_tmp, card_path)
    except OSError as e:
        _cleanup(tmp, card_tmp, created)
        raise _disk_error(e, out) from e
    except BaseException:
        _cleanup(tmp, card_tmp, created)
        raise
    return ExportReport(
        format=fmt,
        task=predictor.task,
        arch=predictor.arch,
        source=predictor.source,
        model_path=str(final),
        card_path=str(card_path),
        export_seconds=round(export_seconds, 3),
        seconds=round(time.perf_counter() - t0, 3),
        parity=parity,
    )


def _card(predictor, fmt: str, facts: dict, parity, versions: dict, project_path) -> dict:
    from engine.export.card import build_card, training_images

    return build_card(
        predictor=predictor,
        fmt=fmt,
        file_facts=facts,
        parity=parity.to_dict(),
        versions=versions,
        extra={
            "source_model": predictor.source,
            "training_images": training_images(project_path, predictor.task),
        },
    )


def _load(path: str | os.PathLike) -> tuple[Any, Path | None]:
    """(CPU Predictor, project folder or None) through the predictor's checkpoint reader."""
    from engine.predict.predictor import ModelFileError, Predictor

    try:
        predictor = Predictor.from_path(path, device="cpu")
    except ModelFileError as e:
        raise ExportError(str(e)) from None
    return predictor, project_of(Path(predictor.source))


def project_of(model_file: Path) -> Path | None:
    """The project folder a model file lies in (PROJECT/models/.../x.pt), else None."""
    for parent in list(model_file.resolve().parents)[:4]:
        if parent.name == "models" and (parent.parent / "project.json").is_file():
            return parent.parent
    return None


def _output_folder(out_dir, project_path: Path | None, model_file: Path, fmt: str) -> Path:
    if out_dir is not None:
        return Path(out_dir).expanduser()
    base = project_path if project_path is not None else model_file.parent
    return base / "export" / fmt


def _prepare_folder(out: Path) -> list[Path]:
    """Create `out` if needed and prove it writable; the folders created (for clean-up)."""
    if out.exists() and not out.is_dir():
        raise ExportError(f"Cannot export to {out}: it is a file, not a folder.")
    missing = [p for p in [out, *out.parents] if not p.exists()][::-1]
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test-", dir=out)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        _cleanup(None, None, missing)
        raise _disk_error(e, out, "Cannot write to the output folder") from e
    return missing


def _write(predictor: Any, fmt: str, tmp: Path, onnx_exporter: str) -> dict:
    wrapped = backends.normalized_model(predictor.model, predictor.mean, predictor.std)
    try:
        return backends.write_model(fmt, wrapped, predictor.image_size, tmp, onnx_exporter)
    except OSError:
        raise
    except Exception as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        code = storage_errno(e) or _low_space(tmp.parent)
        if code:  # torch reports a short write (full disk) as a RuntimeError
            raise _disk_error(OSError(errno.ENOSPC, first), tmp.parent, code=code) from e
        raise ExportError(f"{predictor.arch} could not be exported to {fmt}: {first}") from e


def _disk_error(
    e: OSError, out: Path, what: str = "Cannot write the export to", code: str = ""
) -> ExportError:
    """One line naming the folder, what the disk said and, for a full, read-only or failing
    disk, the remedy (engine.errors.storage_error)."""
    code = code or storage_errno(e)
    remedy = str(storage_error(e, out, "writing the export", code=code)) if code else ""
    tail = remedy.split(": ", 1)[1] if ": " in remedy and code in _REMEDIED else ""
    return ExportError(f"{what} {out} ({e.strerror or e}){': ' + tail if tail else '.'}")


_REMEDIED = {"ENOSPC", "EDQUOT", "EACCES", "EPERM", "EROFS", "EIO"}


def _low_space(folder: Path, margin: int = 16 << 20) -> str:
    """ENOSPC when `folder`'s disk has under `margin` bytes free, else ''."""
    try:
        return "ENOSPC" if shutil.disk_usage(folder).free < margin else ""
    except OSError:
        return ""


def _parity(predictor, project_path, fmt: str, tmp: Path, max_images: int, control):
    import numpy as np
    import torch

    from engine.control import Cancelled

    kind, images, skipped = parity_inputs(project_path, predictor, max(1, int(max_images)))

    def reference(x: np.ndarray) -> np.ndarray:  # exactly the predictor's forward pass
        xn = ((x - predictor.mean) / predictor.std).astype(np.float32)
        with torch.inference_mode():
            return predictor.model(torch.from_numpy(xn)).float().numpy()

    try:
        return check_parity(
            task=predictor.task,
            reference=reference,
            exported=backends.runner(fmt, tmp),
            images=images,
            inputs=kind,
            threshold=predictor.threshold,
            skipped=skipped,
            check=getattr(control, "check", None),
        )
    except Cancelled:
        raise
    except Exception as e:  # a file the runtime refuses, or outputs of the wrong shape
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ExportError(f"Parity check failed: {first}; nothing was written.") from e


def _cleanup(tmp: Path | None, card_tmp: Path | None, created: list[Path]) -> None:
    for p in (tmp, card_tmp):
        if p is not None:
            p.unlink(missing_ok=True)
    for d in reversed(created):  # deepest first; only if still empty
        try:
            d.rmdir()
        except OSError:
            pass

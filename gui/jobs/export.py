"""The export job: write the model in use as ONNX or TorchScript, with its parity check."""

from __future__ import annotations


def export_job(job, model: str, fmt: str, folder: str):
    """Runs on the worker thread; returns the plain-value ExportReport."""
    from engine.export.api import export_model

    return export_model(model, fmt, folder, control=job.control)

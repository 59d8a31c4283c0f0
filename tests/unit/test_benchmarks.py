"""The quality benchmark and the GPU check run end to end (smoke tests of the scripts, not
timed): one JSON object of the documented shape, metric values in range."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*args], capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_quality_quick_prints_one_json_object_in_range():
    proc = _run(sys.executable, "benchmarks/quality.py", "--json", "--quick")
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert list(data) == ["datasets"] and len(data["datasets"]) == 1
    row = data["datasets"][0]
    keys = {"name", "task", "metric", "engine", "reference", "engine_s", "reference_s"}
    assert keys <= set(row)
    assert row["task"] == "classification" and row["metric"] == "accuracy"
    assert 0 <= row["engine"] <= 1 and 0 <= row["reference"] <= 1
    assert row["engine_s"] > 0 and row["reference_s"] > 0 and row["time_ratio"] > 0


def test_gpu_check_skips_cleanly_without_cuda():
    import torch

    if torch.cuda.is_available():  # a GPU machine runs the real check instead
        return
    proc = _run("bash", "benchmarks/gpu_check.sh")
    assert proc.returncode == 0
    assert "SKIPPED - no CUDA device" in proc.stderr
    assert json.loads(proc.stdout)["skipped"] == "no CUDA device"


def test_gpu_check_steps_run_on_the_cpu():
    proc = _run(sys.executable, "benchmarks/gpu_check.py", "--json", "--quick", "--device", "cpu",
                "--tasks", "classification", "--variants", "fp16_scaler_channels_last")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["ok"] is True and data["device"] == "cpu"
    names = [c["name"] for c in data["checks"]]
    assert names == [
        "classification/fp16_scaler_channels_last/train",
        "classification/predict_cpu_vs_cpu",
    ]
    agree = data["checks"][1]["detail"]
    assert agree["agree"] == 1.0 and agree["max_prob_diff"] == 0.0  # same model, same device
    assert data["speed"]["classification"]["predict_cpu_img_s"] > 0

"""CLI output into a closed pipe (`topdown-cli info P | head -1`) ends quietly (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from engine.project.store import Project

ROOT = Path(__file__).resolve().parents[2]


def test_info_into_a_closed_pipe_exits_quietly(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    # ~400 kB of output: far more than a pipe buffers, so the writer meets the closed pipe
    p.record_skipped([(f"/data/file_{k:05d}.jpg", "x" * 60) for k in range(4000)])
    cmd = f"{sys.executable} main.py info {p.path} --json | head -1; echo rc=${{PIPESTATUS[0]}}"
    out = subprocess.run(
        ["bash", "-c", cmd], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert out.stdout.splitlines() == ["{", "rc=141"] or out.stdout.splitlines() == ["{", "rc=0"]
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr, out.stderr
    assert out.stderr == ""

"""One training per project at a time, across processes (issue 12): the second comer is
refused with the holder named; a lock left by a killed process is taken over."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from engine.errors import TrainingError
from engine.training.train import train
from tests.support.projects import make_project, tiny_config

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from engine.project.locks import project_lock
with project_lock(sys.argv[1], "training"):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def _holder(project_path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(project_path)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_training_is_refused_while_another_process_trains(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    lock = project.path / "models" / ".train.lock"
    proc = _holder(project.path)
    try:
        with pytest.raises(TrainingError, match=rf"Another training .*process {proc.pid} on "):
            train(project, tiny_config())
        assert json.loads(lock.read_text())["pid"] == proc.pid  # untouched by the refusal
        assert not (project.path / "models" / "best.pt").exists()
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    assert not lock.exists()  # released when the holder ends


def test_lock_of_a_killed_process_is_taken_over_and_released_after(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    lock = project.path / "models" / ".train.lock"
    proc = _holder(project.path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    held = json.loads(lock.read_text())
    assert (held["pid"], held["host"]) == (proc.pid, socket.gethostname())  # left behind
    end = train(project, tiny_config())
    assert end.epochs_done == 2 and not end.cancelled
    assert not lock.exists()


def test_lock_released_when_training_fails(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    project.add_class("zebra")  # empty class: training refuses to start
    with pytest.raises(TrainingError, match="'zebra'"):
        train(project, tiny_config())
    assert not (project.path / "models" / ".train.lock").exists()
    proc = _holder(project.path)  # and another process can take it at once
    proc.stdin.close()
    assert proc.wait(timeout=60) == 0

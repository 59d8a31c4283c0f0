"""Training on all of this computer's GPUs: the same `train` command run under torchrun as a
child process, followed through its event lines (`--events jsonl`, engine.event_stream) into
the same bridge events the in-process run gives, so the Train page draws the same live plots.

Stop sends SIGTERM to the child's whole process group (torchrun and its workers), which stop
together and keep last.pt (engine.training.strategy.DDP). A child that fails or crashes raises
TrainingError with its message and the last lines it wrote to stderr: the app goes on. Pause is
not offered for a child run.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path

from engine.control import Cancelled
from engine.errors import TrainingError
from engine.event_stream import Result, StreamError, decode
from engine.events import FitEnd

MAIN = Path(__file__).resolve().parents[2] / "main.py"
STDERR_LINES = 12  # the child's last stderr lines shown when it fails
STOP_GRACE_S = 60.0  # after SIGTERM, how long the child may take to save and stop


def visible_gpus() -> int:
    """CUDA GPUs this process sees (0 without CUDA); the Train page offers 'Use all N GPUs'
    when there is more than one."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def child_command(project_dir, nproc: int, *, resume: bool = False) -> list[str]:
    """`python -m torch.distributed.run --standalone --nproc-per-node N main.py train ...`."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    cmd += ["--nproc-per-node", str(int(nproc)), str(MAIN), "train", str(project_dir)]
    return cmd + ["--events", "jsonl"] + (["--resume"] if resume else [])


def _pump(stream, sink) -> None:
    for line in iter(stream.readline, ""):
        sink(line.rstrip("\n"))
    stream.close()


def train_child_job(job, project, config, nproc: int, *, resume: bool = False) -> FitEnd:
    """Run the project's training (its saved settings, which the page saved from `config`) on
    `nproc` processes in a child; events go to `job.emit`; returns the run's FitEnd."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    proc = subprocess.Popen(
        child_command(project.path, nproc, resume=resume),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,  # its own process group: stop reaches torchrun and workers
    )
    lines: queue.Queue = queue.Queue()
    errs: deque = deque(maxlen=STDERR_LINES)
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, lines.put), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, errs.append), daemon=True),
    ]
    for t in readers:
        t.start()
    try:
        return _follow(job, proc, lines, errs, readers)
    finally:
        if proc.poll() is None:  # an error here: never leave the child running
            _signal(proc, signal.SIGKILL)
            proc.wait()


def _follow(job, proc, lines: queue.Queue, errs: deque, readers) -> FitEnd:
    result, error, stop_sent = None, "", None
    while proc.poll() is None or not lines.empty() or readers[0].is_alive():
        if job.control.cancelled and stop_sent is None:
            _signal(proc, signal.SIGTERM)
            stop_sent = time.monotonic()
        elif stop_sent is not None and time.monotonic() - stop_sent > STOP_GRACE_S:
            _signal(proc, signal.SIGKILL)  # it did not stop in time
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        try:
            event = decode(line)
        except ValueError:
            continue  # not an event (a library's print): ignored
        if isinstance(event, Result):
            result = event.end
        elif isinstance(event, StreamError):
            error = event.message
        else:
            job.emit(event)
    for t in readers:
        t.join(timeout=5)
    if result is not None:
        return result
    if stop_sent is not None:
        raise Cancelled()
    tail = "\n".join(line for line in errs if line.strip())
    why = error or f"The training processes stopped unexpectedly (exit code {proc.returncode})."
    raise TrainingError(f"{why}\n\nLast output of the training processes:\n{tail}".rstrip())


def _signal(proc, sig) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass

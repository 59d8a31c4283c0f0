"""The one bridge between the GUI and engine work: a single worker QThread, one job at a time.

A job is a plain function ``fn(job: Job, *args, **kwargs) -> result`` run on the worker thread.
Inside it, ``job.emit(event)`` queues a plain-value event and ``job.control`` (an
engine.control.RunControl) provides cooperative pause / resume / cancel.

Events are not sent one signal each: the worker appends them to a queue and a GUI-thread timer
drains it 20 times a second into one ``events(list)`` signal, so a fast training loop never
floods the event loop. ``finished``/``failed``/``cancelled`` arrive after the last events.
"""

from __future__ import annotations

import queue
import threading
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, QTimer, Signal

from engine.control import Cancelled, RunControl


class Job:
    def __init__(self, name: str, control: RunControl, sink: deque):
        self.name = name
        self.control = control
        self._sink = sink

    def emit(self, event: Any) -> None:
        """Queue an event for the GUI (call from the worker thread; plain values only)."""
        self._sink.append(event)


class _Worker(QThread):
    done = Signal(str, object)  # name, result
    error = Signal(str, str, str)  # name, message, traceback
    stopped = Signal(str)  # name (cancelled)

    def __init__(self, sink: deque):
        super().__init__()
        self._jobs: queue.Queue = queue.Queue()
        self._sink = sink
        self.current: tuple[str, RunControl] | None = None
        self._lock = threading.Lock()

    def put(self, item) -> None:
        self._jobs.put(item)

    def run(self) -> None:
        while True:
            item = self._jobs.get()
            if item is None:
                return
            name, control, fn, args, kwargs = item
            with self._lock:
                self.current = (name, control)
            try:
                result = fn(Job(name, control, self._sink), *args, **kwargs)
            except Cancelled:
                self.stopped.emit(name)
            except Exception as e:  # a job's failure must never kill the worker
                self.error.emit(name, str(e) or type(e).__name__, traceback.format_exc())
            else:
                self.done.emit(name, result)
            finally:
                with self._lock:
                    self.current = None


class EngineBridge(QObject):
    """Runs engine jobs on one worker thread and reports back through Qt signals."""

    started = Signal(str)
    events = Signal(list)  # a batch of plain-value events, at most ~20 signals per second
    finished = Signal(str, object)  # job name, return value
    failed = Signal(str, str)  # job name, message (the traceback is in `last_traceback`)
    cancelled = Signal(str)  # job name
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, interval_ms: int = 50):
        super().__init__(parent)
        self._sink: deque = deque()
        self._worker = _Worker(self._sink)
        self._worker.done.connect(self._on_done)
        self._worker.error.connect(self._on_error)
        self._worker.stopped.connect(self._on_stopped)
        self._worker.start()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._drain)
        self._running: str | None = None
        self._control: RunControl | None = None
        self.last_traceback = ""

    # ------------------------------------------------------------ submitting
    @property
    def busy(self) -> bool:
        return self._running is not None

    @property
    def job_name(self) -> str | None:
        return self._running

    def submit(self, name: str, fn: Callable, *args, **kwargs) -> bool:
        """Start a job; returns False (and starts nothing) while another job runs."""
        if self._running is not None:
            return False
        self._running = name
        self._control = RunControl()
        self._worker.put((name, self._control, fn, args, kwargs))
        self._timer.start()
        self.started.emit(name)
        self.busy_changed.emit(True)
        return True

    def cancel(self) -> None:
        if self._control is not None:
            self._control.cancel()

    def pause(self) -> None:
        if self._control is not None:
            self._control.pause()

    def resume(self) -> None:
        if self._control is not None:
            self._control.resume()

    @property
    def paused(self) -> bool:
        return self._control is not None and self._control.paused

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel the running job and stop the thread; True if it stopped in time."""
        self.cancel()
        self._worker.put(None)
        ok = self._worker.wait(timeout_ms)
        self._timer.stop()
        self._drain()
        return bool(ok)

    # ------------------------------------------------------------ GUI-thread side
    def _drain(self) -> None:
        batch = []
        while self._sink:
            batch.append(self._sink.popleft())
        if batch:
            self.events.emit(batch)

    def _end(self) -> str:
        self._drain()
        self._timer.stop()
        name, self._running, self._control = self._running or "", None, None
        self.busy_changed.emit(False)
        return name

    def _on_done(self, name: str, result: object) -> None:
        self._end()
        self.finished.emit(name, result)

    def _on_error(self, name: str, message: str, tb: str) -> None:
        self.last_traceback = tb
        self._end()
        self.failed.emit(name, message)

    def _on_stopped(self, name: str) -> None:
        self._end()
        self.cancelled.emit(name)

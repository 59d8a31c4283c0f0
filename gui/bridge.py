"""The one bridge between the GUI and engine work: a single worker QThread, one job at a time.

A job is a plain function ``fn(job: Job, *args, **kwargs) -> result`` run on the worker thread
(the jobs themselves live in gui/jobs/, named by gui.jobs.names.JobName). Inside it,
``job.emit(event)`` queues a plain-value event and ``job.control`` (an engine.control.RunControl)
provides cooperative pause / resume / cancel.

Events are not sent one signal each: the worker appends them to a queue and a GUI-thread timer
drains it 20 times a second into one ``events(list)`` signal, so a fast training loop never
floods the event loop. ``finished``/``failed``/``cancelled`` arrive after the last events.
Each of these signals is also sent on ``job(name)``, the signals of that job name alone, so a
page connects to the jobs it runs instead of filtering every job's signals by name.

``call(fn, *args, done=slot)`` runs a short read-only lookup on the same thread without taking
the job slot (the bridge does not turn busy); ``done`` gets the result, or the exception, on the
GUI thread. Worker signals reach only the bridge's own slots, which run on the GUI thread.
"""

from __future__ import annotations

import itertools
import queue
import traceback
from collections import deque
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from engine.control import Cancelled, RunControl

_STOP, _WORK = 0, 1  # queue priorities: a shutdown goes before lookups still waiting
_CALL = object()  # marks a lookup in the worker's queue (a job is a (name, ...) tuple)


class Job:
    def __init__(self, name: str, control: RunControl, sink: deque):
        self.name = name
        self.control = control
        self._sink = sink

    def emit(self, event: Any) -> None:
        """Queue an event for the GUI (call from the worker thread; plain values only)."""
        self._sink.append(event)


class JobSignals(QObject):
    """The bridge's signals for one job name (GUI thread only)."""

    started = Signal()
    events = Signal(list)
    finished = Signal(object)  # the job's return value
    failed = Signal(str)  # message
    cancelled = Signal()


class _Worker(QThread):
    done = Signal(str, object)  # name, result
    error = Signal(str, str, str)  # name, message, traceback
    stopped = Signal(str)  # name (cancelled)
    answered = Signal(int, object)  # call id, result or exception

    def __init__(self, sink: deque):
        super().__init__()
        self._items: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._sink = sink

    def put(self, item) -> None:
        """Queue a job, a call, or None (stop: ahead of anything still waiting)."""
        self._items.put((_STOP if item is None else _WORK, next(self._order), item))

    def run(self) -> None:
        while True:
            item = self._items.get()[2]
            if item is None:
                return
            if item[0] is _CALL:
                self._call(*item[1:])
            else:
                self._job(*item)

    def _call(self, call_id: int, fn: Callable, args: tuple) -> None:
        try:
            result = fn(*args)
        except Exception as e:  # handed to the caller, never fatal
            result = e
        self.answered.emit(call_id, result)

    def _job(self, name: str, control: RunControl, fn: Callable, args, kwargs) -> None:
        try:
            result = fn(Job(name, control, self._sink), *args, **kwargs)
        except Cancelled:
            self.stopped.emit(name)
        except Exception as e:  # a job's failure must never kill the worker
            self.error.emit(name, str(e) or type(e).__name__, traceback.format_exc())
        else:
            self.done.emit(name, result)


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
        self._worker.answered.connect(self._on_answered)
        self._worker.start()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._drain)
        self._running: str | None = None
        self._control: RunControl | None = None
        self._by_name: dict[str, JobSignals] = {}
        self._calls: dict[int, Callable[[object], None]] = {}
        self._call_ids = itertools.count()
        self.last_traceback = ""

    # ------------------------------------------------------------ submitting
    @property
    def busy(self) -> bool:
        return self._running is not None

    @property
    def job_name(self) -> str | None:
        return self._running

    def job(self, name: str) -> JobSignals:
        """The signals of the jobs submitted as `name` (made on first use, kept for good)."""
        if name not in self._by_name:
            self._by_name[name] = JobSignals(self)
        return self._by_name[name]

    def submit(self, name: str, fn: Callable, *args, **kwargs) -> bool:
        """Start a job; returns False (and starts nothing) while another job runs."""
        if self._running is not None:
            return False
        self._running = name
        self._control = RunControl()
        self._worker.put((name, self._control, fn, args, kwargs))
        self._timer.start()
        self.started.emit(name)
        if name in self._by_name:
            self._by_name[name].started.emit()
        self.busy_changed.emit(True)
        return True

    def call(self, fn: Callable, *args, done: Callable[[object], None]) -> None:
        """Run the read-only lookup `fn(*args)` on the worker thread, after what is queued,
        without making the bridge busy; `done(result or exception)` runs on the GUI thread.
        `done` should be a bound method: it is skipped if its object was deleted meanwhile."""
        call_id = next(self._call_ids)
        self._calls[call_id] = done
        self._worker.put((_CALL, call_id, fn, args))

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
    def _named(self, name: str) -> JobSignals | None:
        return self._by_name.get(name)

    @Slot()
    def _drain(self) -> None:
        batch = []
        while self._sink:
            batch.append(self._sink.popleft())
        if batch:
            self.events.emit(batch)
            if (named := self._named(self._running or "")) is not None:
                named.events.emit(batch)

    def _end(self) -> str:
        self._drain()
        self._timer.stop()
        name, self._running, self._control = self._running or "", None, None
        self.busy_changed.emit(False)
        return name

    @Slot(str, object)
    def _on_done(self, name: str, result: object) -> None:
        self._end()
        self.finished.emit(name, result)
        if (named := self._named(name)) is not None:
            named.finished.emit(result)

    @Slot(str, str, str)
    def _on_error(self, name: str, message: str, tb: str) -> None:
        self.last_traceback = tb
        self._end()
        self.failed.emit(name, message)
        if (named := self._named(name)) is not None:
            named.failed.emit(message)

    @Slot(str)
    def _on_stopped(self, name: str) -> None:
        self._end()
        self.cancelled.emit(name)
        if (named := self._named(name)) is not None:
            named.cancelled.emit()

    @Slot(int, object)
    def _on_answered(self, call_id: int, result: object) -> None:
        done = self._calls.pop(call_id, None)
        owner = getattr(done, "__self__", None)
        if done is None or (isinstance(owner, QObject) and not shiboken6.isValid(owner)):
            return
        done(result)

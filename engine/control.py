"""Cooperative pause / resume / cancel for long engine jobs (import, training, prediction).

The job calls `control.check()` between units of work (a file, a batch); `check` blocks while
paused and raises `Cancelled` once cancel was asked. Thread-safe, no Qt.
"""

from __future__ import annotations

import threading


class Cancelled(Exception):
    """Raised inside a job by `RunControl.check()` after `cancel()`; the job cleans up."""


class RunControl:
    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # wake a paused job so it can see the cancel

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait(self) -> None:
        """Block while paused (a cancel wakes it); no stop here, unlike `check`."""
        if not self._running.is_set():
            self._running.wait()

    def check(self) -> None:
        """Block while paused; raise Cancelled if cancel was asked."""
        self.wait()
        if self._cancel.is_set():
            raise Cancelled()

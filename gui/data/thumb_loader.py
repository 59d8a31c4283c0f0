"""Thumbnails made off the GUI thread.

The browser asks for a thumbnail only when it paints a tile, so only visible rows are requested.
Requests are de-duplicated and served newest-first (the rows on screen now matter more than the
ones scrolled past), the queue is capped, and results come back to the GUI thread through a
queued signal as a QImage (QPixmaps may only be made on the GUI thread). The engine's disk cache
makes a second visit instant.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from PySide6.QtCore import QObject, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage


class ThumbLoader(QObject):
    """Loads `engine.project.thumbnails.thumbnail(project, record, size)` on a small thread pool."""

    ready = Signal(int, QImage)  # image id, thumbnail
    failed = Signal(int, str)  # image id, reason (e.g. "the image is truncated")
    _delivered = Signal(int, int, object, str)  # generation, id, QImage | None, reason

    def __init__(
        self, parent: QObject | None = None, size: int = 128, threads: int = 2, cap: int = 600
    ):
        super().__init__(parent)
        self.size = size
        self._cap = cap
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, threads))
        self._lock = threading.Lock()
        self._pending: OrderedDict[int, object] = OrderedDict()  # id -> record, newest last
        self._inflight: set[int] = set()
        self._runners = 0
        self._project = None
        self._generation = 0
        self.loaded_count = 0  # thumbnails produced (for tests and benchmarks)
        self._delivered.connect(self._on_delivered)

    # ------------------------------------------------------------------ GUI thread API
    def set_project(self, project) -> None:
        """Forget every request; results still in flight for the old project are dropped."""
        with self._lock:
            self._project = project
            self._generation += 1
            self._pending.clear()
            self._inflight.clear()

    def request(self, record) -> None:
        """Ask for the thumbnail of `record` (an engine ImageRecord); cheap to call repeatedly."""
        with self._lock:
            if self._project is None or record.id in self._inflight:
                return
            self._pending[record.id] = record
            self._pending.move_to_end(record.id)
            while len(self._pending) > self._cap:  # rows long scrolled past: forget them
                self._pending.popitem(last=False)
            start = self._runners < self._pool.maxThreadCount()
            if start:
                self._runners += 1
        if start:
            self._pool.start(self._run)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._inflight)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Drop queued work and wait for the running thumbnails to finish."""
        self.set_project(None)
        return bool(self._pool.waitForDone(timeout_ms))

    # ------------------------------------------------------------------ worker threads
    def _next(self):
        with self._lock:
            if not self._pending or self._project is None:
                self._runners -= 1
                return None
            iid, record = self._pending.popitem(last=True)
            self._inflight.add(iid)
            return self._generation, self._project, record

    def _run(self) -> None:
        from engine.imaging import BadImage  # lazily: keeps start-up light
        from engine.project.thumbnails import thumbnail

        while (job := self._next()) is not None:
            generation, project, record = job
            image, reason = None, ""
            try:
                path = thumbnail(project, record, self.size)
                image = QImage(str(path))
                if image.isNull():
                    image, reason = None, f"{path.name}: the thumbnail cannot be read"
            except BadImage as e:
                reason = e.reason
            except Exception as e:  # one bad file must never stop the others
                reason = str(e) or type(e).__name__
            self._delivered.emit(generation, record.id, image, reason)

    @Slot(int, int, object, str)
    def _on_delivered(self, generation: int, iid: int, image, reason: str) -> None:
        with self._lock:
            if generation != self._generation:
                return
            self._inflight.discard(iid)
        if image is not None:
            self.loaded_count += 1
            self.ready.emit(iid, image)
        else:
            self.failed.emit(iid, reason or "cannot read this image")

"""The bridge: signals per job name reach only that job's listeners, on the GUI thread; lookups
run on the worker thread without making the bridge busy; the status text of each job name."""

from __future__ import annotations

import threading

import shiboken6
from PySide6.QtCore import QObject, Slot

from engine.control import Cancelled
from gui.jobs.names import JobName, job_text


class Listener(QObject):
    """Records what one job name's signals deliver, and on which thread."""

    def __init__(self):
        super().__init__()
        self.got: list[tuple] = []
        self.threads: set[str] = set()

    def _note(self, *item) -> None:
        self.got.append(item)
        self.threads.add(threading.current_thread().name)

    @Slot(list)
    def events(self, events: list) -> None:
        self._note("events", *events)

    @Slot(object)
    def finished(self, result) -> None:
        self._note("finished", result)

    @Slot(str)
    def failed(self, message: str) -> None:
        self._note("failed", message)

    @Slot()
    def cancelled(self) -> None:
        self._note("cancelled")

    def listen(self, signals) -> None:
        signals.events.connect(self.events)
        signals.finished.connect(self.finished)
        signals.failed.connect(self.failed)
        signals.cancelled.connect(self.cancelled)


def _counting(job, n: int) -> int:
    for i in range(n):
        job.emit(i)
    return n


def _failing(job) -> None:
    raise ValueError("broken.png: not an image")


def _cancelled(job) -> None:
    raise Cancelled()


def test_each_job_name_reaches_only_its_listeners(qtbot, bridge):
    train, predict = Listener(), Listener()
    train.listen(bridge.job(JobName.TRAIN))
    predict.listen(bridge.job(JobName.PREDICT))
    with qtbot.waitSignal(bridge.job(JobName.TRAIN).finished, timeout=10000):
        assert bridge.submit(JobName.TRAIN, _counting, 3)
    with qtbot.waitSignal(bridge.job("predict").failed, timeout=10000):  # a plain str works
        assert bridge.submit(JobName.PREDICT, _failing)
    with qtbot.waitSignal(bridge.job(JobName.TRAIN).cancelled, timeout=10000):
        assert bridge.submit(JobName.TRAIN, _cancelled)
    events = [x for kind, *rest in train.got if kind == "events" for x in rest]
    assert events == [0, 1, 2]
    assert [g for g in train.got if g[0] != "events"] == [("finished", 3), ("cancelled",)]
    assert predict.got == [("failed", "broken.png: not an image")]
    assert train.threads == predict.threads == {threading.main_thread().name}


class Asker(QObject):
    def __init__(self):
        super().__init__()
        self.answers: list = []
        self.thread = ""

    @Slot(object)
    def done(self, result) -> None:
        self.setProperty("answered", True)  # a Qt call: fails on a deleted object
        self.answers.append(result)
        self.thread = threading.current_thread().name


def test_lookup_runs_on_the_worker_without_making_the_bridge_busy(qtbot, bridge):
    asker = Asker()
    bridge.call(lambda: threading.current_thread().name, done=asker.done)
    assert not bridge.busy
    qtbot.waitUntil(lambda: bool(asker.answers), timeout=10000)
    worker = asker.answers[0]
    assert worker != threading.main_thread().name  # ran on the worker ...
    assert asker.thread == threading.main_thread().name  # ... answered on the GUI thread

    def broken():
        raise OSError("models/history.json: permission denied")

    bridge.call(broken, done=asker.done)
    qtbot.waitUntil(lambda: len(asker.answers) == 2, timeout=10000)
    assert isinstance(asker.answers[1], OSError) and "history.json" in str(asker.answers[1])


def test_lookup_waits_for_the_running_job_and_skips_a_deleted_receiver(qtbot, bridge):
    release, order = threading.Event(), []

    def job(job):
        release.wait(10)
        order.append("job")

    asker, gone = Asker(), Asker()
    assert bridge.submit("long job", job)
    bridge.call(lambda: order.append("lookup") or "ok", done=asker.done)
    bridge.call(lambda: "late", done=gone.done)
    bridge.call(lambda: "after", done=asker.done)
    gone.deleteLater()
    qtbot.waitUntil(lambda: not shiboken6.isValid(gone), timeout=5000)
    release.set()
    # answers come in order: once "after" is in, the one for the deleted object was skipped
    qtbot.waitUntil(lambda: asker.answers == ["ok", "after"], timeout=10000)
    assert order == ["job", "lookup"]


def test_status_text_per_job_name():
    assert job_text(JobName.TRAIN) == "Training…"
    assert job_text("predict_folder") == "Predicting a folder…"
    assert job_text("long job") == "Working: long job…"
    assert all(name.text for name in JobName)

"""Qt test helpers: real drag-and-drop event sequences, a shown main window, and a fake engine
bridge for helpers built without one."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QPoint, QPointF, Qt, QUrl, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

COPY = Qt.DropAction.CopyAction
BUTTONS = Qt.MouseButton.LeftButton
MODS = Qt.KeyboardModifier.NoModifier


# ---------------------------------------------------------------------- drag and drop
def file_mime(paths: Iterable[str | Path]) -> QMimeData:
    """Mime data carrying local file URLs, as a file manager drags them."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drag_enter(target: QWidget, pos: QPoint | QPointF, mime: QMimeData) -> QDragEnterEvent:
    """Send a drag-enter at `pos`; its isAccepted() says whether the target takes the drag."""
    # PySide6 6.11: QDragEnterEvent / QDragMoveEvent take a QPoint, QDropEvent a QPointF
    ev = QDragEnterEvent(QPointF(pos).toPoint(), COPY, mime, BUTTONS, MODS)
    QApplication.sendEvent(target, ev)
    return ev


def drag_and_drop(target: QWidget, pos: QPoint | QPointF, mime: QMimeData) -> QEvent:
    """Enter, move and drop `mime` at `pos` on `target`, as Qt delivers a real drag, stopping at
    the first event the target refuses. Returns the last event sent: its isAccepted() says
    whether the drop was taken."""
    ev: QEvent = drag_enter(target, pos, mime)
    if not ev.isAccepted():
        return ev
    ev = QDragMoveEvent(QPointF(pos).toPoint(), COPY, mime, BUTTONS, MODS)
    QApplication.sendEvent(target, ev)
    if not ev.isAccepted():
        return ev
    ev = QDropEvent(QPointF(pos), COPY, mime, BUTTONS, MODS)
    QApplication.sendEvent(target, ev)
    return ev


def send_drag(target: QWidget, pos: QPoint | QPointF, mime: QMimeData) -> bool:
    """drag_and_drop(); True when the target accepted the drop."""
    return drag_and_drop(target, pos, mime).isAccepted()


def drop_files(window: QWidget, paths: Iterable[str | Path], target: QWidget | None = None) -> bool:
    """Drag file URLs to the centre of `window` and drop them there. The events go to `target`
    (default: the widget at that point, else `window`) at that point mapped into it, as Qt
    delivers a real drop; returns whether the drop was accepted."""
    centre = window.rect().center()
    if target is None:
        target = window.childAt(centre) or window
    pos = target.mapFrom(window, centre) if target is not window else centre
    return send_drag(target, pos, file_mime(paths))


# ---------------------------------------------------------------------- trained projects


# ---------------------------------------------------------------------- the main window
def shown_main_window(qtbot):
    """A shown, exposed MainWindow whose questions are answered yes (closing during a job in
    teardown must not block on a dialog)."""
    from gui.window.main_window import MainWindow

    w = MainWindow()
    w.ask = lambda title, text: True
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


# ---------------------------------------------------------------------- questions
def press_when_shown(object_name: str, button_text: str, seen: list | None = None):
    """Press the button starting with `button_text` on the message box called `object_name`
    as soon as it is shown (a person answering the question); `seen` collects the box's
    text and informative text. Returns the polling timer (keep a reference)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    timer = QTimer()
    timer.setInterval(20)

    def poll() -> None:
        for w in QApplication.topLevelWidgets():
            if isinstance(w, QMessageBox) and w.objectName() == object_name and w.isVisible():
                timer.stop()
                if seen is not None:
                    seen.append(w.text() + "\n" + w.informativeText())
                for b in w.buttons():
                    if b.text().replace("&", "").startswith(button_text):
                        b.click()
                        return
                raise AssertionError(f"no button {button_text!r} on {object_name}")

    timer.timeout.connect(poll)
    timer.start()
    return timer


# ---------------------------------------------------------------------- a fake bridge
class FakeJob(QObject):
    """One job's signals, as gui.bridge.EngineBridge.job gives them (emitted by the test)."""

    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    events = Signal(list)


class FakeBridge:
    """What GUI helpers use of gui.bridge.EngineBridge: `job(name)`'s signals, `submit` (noted
    in `submitted`, nothing runs) and `cancel` (counted)."""

    def __init__(self):
        self.jobs: dict[str, FakeJob] = {}
        self.submitted: list[tuple] = []
        self.cancels = 0

    def job(self, name) -> FakeJob:
        return self.jobs.setdefault(str(name), FakeJob())

    def submit(self, name, fn, *args) -> bool:
        self.submitted.append((str(name), fn, args))
        return True

    def cancel(self) -> None:
        self.cancels += 1

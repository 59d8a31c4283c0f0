"""Shared test helpers: real drag-and-drop event sequences, and tiny trained projects
(`make_train_project`, `tiny_config` re-exported from tests/unit/trainproj.py).

Import as `from tests.gui.helpers import ...` (tests/conftest.py puts the repo root on sys.path),
from tests/gui and tests/e2e alike.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

_UNIT = str(Path(__file__).resolve().parents[1] / "unit")
if _UNIT not in sys.path:
    sys.path.insert(0, _UNIT)
from trainproj import make_project as make_train_project  # noqa: E402  (tests/unit/trainproj.py)
from trainproj import tiny_config  # noqa: E402

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
ARCH = {
    "classification": "resnet18",
    "segmentation": "lraspp_mobilenet_v3_large",
    "regression": "resnet18",
}


def train_tiny_projects(root: Path, sizes: Mapping[str, int]) -> dict[str, Path]:
    """One tiny trained project per task in `sizes` (task -> number of images) under `root`,
    made by tests/unit/trainproj.py; returns task -> project folder (the projects are closed)."""
    from engine.training.train import train

    out = {}
    for task, n in sizes.items():
        p = make_train_project(root / task, task, n=n)
        train(p, tiny_config(arch=ARCH[task], batch_size=4, epochs=1))
        p.close()
        out[task] = root / task
    return out


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

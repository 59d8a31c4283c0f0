"""GUI start-up: make the QApplication, apply the light theme, show the main window at once,
and only then warm up torch/torchvision in the background (importing them takes seconds).

``python main.py [PROJECT_FOLDER]`` opens the app (and the project, if given).
``--startup-probe`` prints one JSON line with the wall-clock time the window was first painted
and quits: benchmarks/startup.py uses it to measure start-up from outside the process.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

RESOURCES = Path(__file__).resolve().parent.parent / "resources"

_warm_thread: threading.Thread | None = None


def warm_up_torch() -> threading.Thread:
    """Import torch and torchvision on a background thread (once per process), so the first
    training or prediction does not wait for them. The window is already up by then."""
    global _warm_thread
    if _warm_thread is None:

        def work() -> None:
            try:
                import torch  # noqa: F401
                import torchvision  # noqa: F401
            except Exception:  # a broken install shows up, with its message, on first use
                pass

        _warm_thread = threading.Thread(target=work, name="torch-warm-up", daemon=True)
        _warm_thread.start()
    return _warm_thread


def apply_theme(app: QApplication, choice: str | None = None) -> str:
    """Fusion with the app style sheet, light or dark (gui.theme.apply)."""
    from gui import theme

    return theme.apply(app, choice)


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    app.setApplicationName("Topdown")
    app.setApplicationDisplayName("Topdown")
    app.setDesktopFileName("topdown")
    icon = RESOURCES / "topdown.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    apply_theme(app)
    return app


class _FirstPaint(QObject):
    """Calls `fn` once, right after the window's first paint event."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn
        self.done = False

    def eventFilter(self, obj, event) -> bool:
        if not self.done and event.type() == QEvent.Type.Paint:
            self.done = True
            QTimer.singleShot(0, self.fn)
        return False


def _parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="topdown", description="Topdown desktop app")
    p.add_argument("project", nargs="?", help="a project folder to open")
    p.add_argument("--startup-probe", action="store_true", help=argparse.SUPPRESS)
    args, _unknown = p.parse_known_args(argv)  # Qt options (-platform ...) pass through
    return args


def run_gui(argv: list[str]) -> int:
    """Show the main window and run the event loop; returns the exit code."""
    args = _parse(argv)
    app = make_app(argv)
    from gui.window.main_window import MainWindow

    window = MainWindow()

    def shown() -> None:
        if args.startup_probe:
            info = {"shown_at": time.time(), "torch_loaded": "torch" in sys.modules}
            print(json.dumps(info), flush=True)
            window.close()
            app.quit()
            return
        if args.project:
            window.projects.open_project(args.project)
        QTimer.singleShot(300, warm_up_torch)

    first_paint = _FirstPaint(shown)
    window.installEventFilter(first_paint)
    window.show()
    return app.exec()

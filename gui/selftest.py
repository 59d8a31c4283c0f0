"""`topdown --self-test`: the engine self-test (engine/selftest.py) plus the window step:
open the main window, open the freshly trained demo project in it, close it. Prints one JSON
line and exits 0 when all passed. Without a display Qt runs offscreen, so it works over ssh and
in a bundle test; settings go to the temp folder, never to the user's own.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from engine.selftest import add_options, report, self_test


def _process_until(app, done, timeout_s: float) -> bool:
    """Run the event loop until `done()` or the timeout; whether `done()` became true."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        app.processEvents()
        if done():
            return True
        time.sleep(0.01)
    return done()


def window_step(work: Path, result: dict) -> dict:
    """Show the main window, open the demo project in it, close it (the user's settings are
    not touched: TOPDOWN_CONFIG_DIR points into the temp folder for the duration)."""
    old = os.environ.get("TOPDOWN_CONFIG_DIR")
    os.environ["TOPDOWN_CONFIG_DIR"] = str(work / "config")
    try:
        from gui.app import make_app
        from gui.window.main_window import MainWindow

        app = make_app([])
        if not app.styleSheet() or app.windowIcon().isNull():  # data files a bundle can miss
            raise RuntimeError("the app's style sheet or icon was not found (gui/, resources/)")
        window = MainWindow()
        window.ask = lambda title, text: True  # never block on a question
        window.show()
        if not _process_until(app, lambda: window.windowHandle().isExposed(), 10):
            raise RuntimeError("the main window was not shown within 10 s")
        if not window.projects.open_project(str(work / "demo")):
            raise RuntimeError(f"the window could not open the demo project: {window.last_message}")
        _process_until(app, lambda: False, 0.3)  # let the pages draw
        title = window.windowTitle()
        if not window.close():
            raise RuntimeError("the main window refused to close")
        app.processEvents()
        window.deleteLater()
        app.processEvents()
        return {"platform": app.platformName(), "title": title}
    finally:
        if old is None:
            os.environ.pop("TOPDOWN_CONFIG_DIR", None)
        else:
            os.environ["TOPDOWN_CONFIG_DIR"] = old


def run_self_test(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="topdown --self-test", description=__doc__.splitlines()[0])
    add_options(p)
    args = p.parse_args(argv)
    if (
        sys.platform.startswith("linux")
        and not os.environ.get("QT_QPA_PLATFORM")
        and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    ):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return report(self_test(args, extra_steps=[("window", window_step)]))

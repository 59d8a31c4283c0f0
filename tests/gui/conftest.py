"""Fixtures for GUI tests: a shown Data page and the engine bridge (projects come from
tests.support.projects)."""

from __future__ import annotations

import pytest


@pytest.fixture
def page(qtbot):
    """A DataPage in a 1100x700 window, shut down cleanly after the test."""
    from gui.data.page import DataPage

    w = DataPage(None)
    qtbot.addWidget(w)
    w.resize(1100, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.set_project(None)
    w.loader.shutdown()


@pytest.fixture
def bridge():
    """The engine's worker thread, shut down after the test."""
    from gui.bridge import EngineBridge

    b = EngineBridge()
    yield b
    b.shutdown(20000)

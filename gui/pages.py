"""Extra pages of the main window (training, evaluation, prediction), filled in by the training
GUI. Each page is a QWidget with a `title` attribute and a `set_project(project | None)` method;
it gets the window's shared EngineBridge through its constructor."""

from __future__ import annotations


def extra_pages(window) -> list:
    """Pages to add after the data browser; `window` gives `window.bridge`."""
    return []

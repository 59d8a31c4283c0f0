"""The engine's plain-value events (engine.events) as JSON lines, one event a line, and back.

`topdown train ... --events jsonl` writes them to stdout (`JsonLines`), so another process (the
app following a torchrun child) can rebuild the same events with `decode` and show the same
live plots. A line is {"event": "<class name>", ...its fields}; numpy arrays become lists.
An error is {"event": "Error", "message": "..."}.
"""

from __future__ import annotations

import json
import sys
from dataclasses import fields

import numpy as np

from engine import events as ev

EVENTS = {
    c.__name__: c
    for c in (
        ev.Progress,
        ev.DownloadProgress,
        ev.Skipped,
        ev.FitStart,
        ev.BatchEnd,
        ev.EpochEnd,
        ev.FitEnd,
        ev.LRFinderResult,
    )
}


def _plain(v):
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.floating, np.integer)):
        return v.item()
    return v


def encode(event) -> str:
    """One event as a JSON line (no newline)."""
    data = {f.name: _plain(getattr(event, f.name)) for f in fields(event)}
    return json.dumps({"event": type(event).__name__, **data}, allow_nan=True)


def decode(line: str):
    """The event a line holds; ValueError for a line that is not one (other output)."""
    data = json.loads(line)
    if not isinstance(data, dict) or "event" not in data:
        raise ValueError(f"not an event line: {line[:80]!r}")
    name = data.pop("event")
    if name == "Error":
        return StreamError(str(data.get("message", "")))
    if name == "Result":
        return Result(decode(json.dumps({**data, "event": "FitEnd"})))
    cls = EVENTS.get(name)
    if cls is None:
        raise ValueError(f"unknown event {name!r}")
    kw = {f.name: data[f.name] for f in fields(cls) if f.name in data}
    for key in ("metric_names", "class_names"):
        if key in kw:
            kw[key] = tuple(kw[key])
    if cls is ev.LRFinderResult:
        kw["lrs"], kw["losses"] = np.asarray(kw["lrs"]), np.asarray(kw["losses"])
    return cls(**kw)


class StreamError:
    """The error line a run ends with when it fails (its message, meant for the user)."""

    def __init__(self, message: str):
        self.message = message


class Result:
    """The last line of a run: its FitEnd as the caller gets it (with `promoted` settled)."""

    def __init__(self, end: ev.FitEnd):
        self.end = end


class JsonLines(ev.Callback):
    """Writes every event as a JSON line to `out` (stdout), flushed at once."""

    def __init__(self, out=None):
        self.out = out or sys.stdout

    def _write(self, event) -> None:
        self.out.write(encode(event) + "\n")
        self.out.flush()

    def result(self, end: ev.FitEnd) -> None:
        self.out.write(encode(end).replace('"FitEnd"', '"Result"', 1) + "\n")
        self.out.flush()

    def error(self, message: str) -> None:
        self.out.write(json.dumps({"event": "Error", "message": message}) + "\n")
        self.out.flush()

    def on_event(self, event) -> None:
        if not isinstance(event, BaseException):  # a failure ends the stream with `error`
            self._write(event)

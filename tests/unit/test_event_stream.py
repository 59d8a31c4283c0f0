"""The engine's events as JSON lines (`train --events jsonl`) come back as equal events."""

from __future__ import annotations

import io

import numpy as np
import pytest

from engine.event_stream import JsonLines, Result, StreamError, decode, encode
from engine.events import BatchEnd, EpochEnd, FitEnd, FitStart, LRFinderResult, Skipped


def test_every_event_survives_a_line():
    events = [
        FitStart(
            "classification",
            "resnet18",
            "cpu x 2 processes",
            3,
            1,
            5,
            40,
            12,
            ("error_rate", "accuracy"),
            ("red", "blue"),
        ),  # fmt: skip
        BatchEnd(0, 1, 1, 15, 0.69, 1e-3, 120.5, 9.0, True),
        EpochEnd(0, 0.7, 0.6, {"accuracy": 0.75, "error_rate": 0.25}, True, 2.5, True),
        Skipped("/x/bad.png", "cannot be read"),
        FitEnd(1, 0, 0.75, "/p/models/runs/1/best.pt", False, [{"epoch": 0}], "1", True),
    ]
    for ev in events:
        line = encode(ev)
        assert "\n" not in line
        assert decode(line) == ev
    lr = decode(encode(LRFinderResult(np.array([1e-5, 1e-3]), np.array([0.7, 0.5]), 1e-3)))
    assert lr.lrs.tolist() == [1e-5, 1e-3] and lr.suggestion == 1e-3


def test_the_callback_writes_lines_a_result_and_an_error():
    out = io.StringIO()
    cb = JsonLines(out)
    cb.on_event(BatchEnd(0, 0, 0, 2, float("nan"), 1e-3, 1.0, 1.0, False))
    cb.result(FitEnd(1, 0, 0.5, "", True))
    cb.error("The batch size 3 is the global batch")
    first, res, err = (decode(line) for line in out.getvalue().splitlines())
    assert isinstance(first, BatchEnd) and first.loss != first.loss  # NaN kept
    assert isinstance(res, Result) and res.end.cancelled
    assert isinstance(err, StreamError) and "batch size 3" in err.message
    with pytest.raises(ValueError):
        decode('{"no": "event"}')
    with pytest.raises(ValueError):
        decode("Training resnet18 on cpu")

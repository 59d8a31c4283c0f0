"""The self-test a user (or the bundle test) runs: `topdown --self-test` / `topdown-cli self-test`,
through the normal Python entry (main.main), with tiny settings and offscreen Qt."""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch

import main
from engine import selftest


def _one_json_line(out: str) -> dict:
    lines = [x for x in out.splitlines() if x.strip()]
    assert len(lines) == 1, f"expected one JSON line, got: {out!r}"
    return json.loads(lines[0])


def test_gui_self_test_trains_predicts_opens_the_window_and_says_ok(qapp, capsys):
    rc = main.main(["--self-test", "--images", "8", "--image-size", "32"])
    r = _one_json_line(capsys.readouterr().out)
    assert rc == 0 and r["ok"] is True, r.get("error")
    assert list(r["steps"]) == ["torch", "train", "predict", "window"]  # no GPU on test machines
    assert r["torch"] == torch.__version__ and r["cuda"] == torch.version.cuda
    assert r["cuda_available"] is torch.cuda.is_available()
    assert r["device"] == ("cpu" if not torch.cuda.is_available() else r["device"])
    assert r["trained_on"] == "cpu" and r["frozen"] is False
    assert r["steps"]["train"]["arch"] == "resnet18"
    assert r["steps"]["predict"]["label"] in ("circle", "square", "triangle", "star")
    assert r["steps"]["window"]["platform"] == "offscreen"
    assert r["steps"]["window"]["title"].startswith("Demo (classification)")
    assert 0 < r["seconds"] < 300
    # the user's own settings were left alone (the window step used the temp folder)
    assert not (Path(os.environ["TOPDOWN_CONFIG_DIR"]) / "topdown.ini").exists()


def test_cli_self_test_reports_the_failing_step_and_exits_1(monkeypatch, capsys):
    monkeypatch.setattr(selftest, "_train", lambda work, args: {"arch": "stub"})

    def broken_predict(work):
        raise RuntimeError("no model could be read")

    monkeypatch.setattr(selftest, "_predict", broken_predict)
    rc = main.main(["self-test"])
    r = _one_json_line(capsys.readouterr().out)
    assert rc == 1 and r["ok"] is False
    assert r["error"] == "predict: RuntimeError: no model could be read"
    assert "predict" not in r["steps"] and "train" in r["steps"]
    assert r["torch"] == torch.__version__ and isinstance(r["seconds"], float)

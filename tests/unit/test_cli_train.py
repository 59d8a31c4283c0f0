"""`python main.py train PROJECT ...`: trains, prints an epoch table, saves the model; errors are
one clear line with exit status 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from cli.main import run
from tests.support.projects import make_project

ROOT = Path(__file__).resolve().parents[2]
FAST = ["--arch", "mobilenet_v3_small", "--weights", "none", "--epochs", "2",
        "--freeze-epochs", "1", "--lr", "0.001", "--image-size", "32", "--batch-size", "8",
        "--device", "cpu"]  # fmt: skip


def test_cli_train_prints_table_and_saves_model(tmp_path, capsys):
    project = make_project(tmp_path / "p", "classification", n=24)
    project.close()
    code = run(["train", str(tmp_path / "p"), *FAST, "--seed", "3"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    header = next(i for i, ln in enumerate(lines) if "train_loss" in ln)
    assert "valid_loss" in lines[header] and "accuracy" in lines[header]
    assert lines[header + 1].split()[0] == "0" and lines[header + 2].split()[0] == "1"
    assert "Model saved to" in out and "best.pt" in out
    assert "ETA" in err and "\r" in err  # one updating progress line on stderr
    assert "now the model in use" in out
    # the verdict names the metric and the baseline of always answering the commonest class
    verdict = next(ln for ln in lines if " model: accuracy " in ln or "guessing: accuracy" in ln)
    assert "validation images" in verdict and "always answering “" in verdict
    assert "Accuracy is the share of validation images it gets right." in out
    assert "Next:" in out and "pretrained weights" in out  # trained with --weights none
    ck = torch.load(tmp_path / "p" / "models" / "best.pt", weights_only=True)
    assert ck["arch"] == "mobilenet_v3_small" and ck["config"]["seed"] == 3

    assert run(["use-run", str(tmp_path / "p"), ck["run_id"], "--device", "cpu"]) == 0
    assert f"run {ck['run_id']} is now the model in use: error_rate" in capsys.readouterr().out
    assert run(["use-run", str(tmp_path / "p"), "nope"]) == 1
    err = capsys.readouterr().err
    assert "no training run 'nope'" in err and "Traceback" not in err


def test_cli_train_errors_are_one_line_exit_1(tmp_path, capsys):
    assert run(["train", str(tmp_path / "nothing")]) == 1
    err = capsys.readouterr().err
    assert "not a Topdown project" in err and "Traceback" not in err

    project = make_project(tmp_path / "p", "classification", n=16, classes=("red",))
    project.close()
    assert run(["train", str(tmp_path / "p"), *FAST]) == 1
    err = capsys.readouterr().err
    assert "one class" in err and "Traceback" not in err

    assert run(["train", str(tmp_path / "p"), "--lr", "fast"]) == 1
    assert "--lr" in capsys.readouterr().err
    assert run(["train", str(tmp_path / "p"), "--arch", "unet_resnet18"]) == 1
    assert "does not fit" in capsys.readouterr().err


def test_main_py_train_resume_without_run_exits_1(tmp_path):
    make_project(tmp_path / "p", "classification", n=16).close()
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "train", str(tmp_path / "p"), "--resume", *FAST],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "no interrupted run to resume" in proc.stderr and "Traceback" not in proc.stderr


def test_main_py_hands_every_subcommand_to_the_cli(monkeypatch):
    """One command table (cli.COMMANDS): each module registers exactly the commands the table
    gives it, and main.py sends each of them (and only those) to the command line."""
    import argparse
    import importlib

    import main
    from cli import COMMANDS

    for module in set(COMMANDS.values()):
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        assert set(sub.choices) == {c for c, m in COMMANDS.items() if m == module}, module
    sent = []
    monkeypatch.setattr(main, "cli_main", lambda argv: sent.append(argv[0]) or 0)
    for command in COMMANDS:
        assert main.main([command]) == 0
    assert sent == list(COMMANDS)


def test_cli_lr_find_suggests_and_saves_a_rate(tmp_path, capsys):
    project = make_project(tmp_path / "p", "classification", n=24)
    project.close()
    args = ["lr-find", str(tmp_path / "p"), "--arch", "mobilenet_v3_small", "--weights", "none",
            "--image-size", "32", "--batch-size", "8", "--device", "cpu"]  # fmt: skip
    assert run([*args, "--save"]) == 0
    out = capsys.readouterr().out
    assert "learning rate" in out and "Suggested learning rate:" in out
    saved = json.loads((tmp_path / "p" / "training.json").read_text())["lr"]
    assert saved > 0 and f"{saved:.2e}" in out
    assert run(args) == 0  # the same settings: the kept result, no new sweep
    assert "Finding a learning rate" not in capsys.readouterr().err

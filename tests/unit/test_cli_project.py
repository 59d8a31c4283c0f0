"""CLI new / info / demo: what a user types and reads, exit codes, no tracebacks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from cli.main import run
from engine.project.store import Project
from tests.support.images import write_bad, write_class_folders, write_image

ROOT = Path(__file__).resolve().parents[2]


def test_new_from_class_folders_then_info(tmp_path, capsys):
    src = tmp_path / "data"
    write_class_folders(src, ("cat", "dog"), per_class=5)
    write_bad(src / "cat")  # bad files among the cats
    write_image(src / "dog" / "extra.png", 16, 16, seed=100)
    (src / "dog" / "dup.png").write_bytes((src / "cat" / "cat_0.png").read_bytes())
    rc = run(["new", str(tmp_path / "p"), "--from", str(src), "--valid-pct", "0.4", "--seed", "1"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "Added 11 images; 7 skipped; 1 duplicate." in out
    assert "empty.jpg: the file is empty (0 bytes)" in out
    assert "dup.png: same content as cat_0.png" in out
    p = Project.open(tmp_path / "p")
    assert p.counts().per_split == {"train": 7, "valid": 4}  # 40 % per class, rounded: 2 + 2
    p.close()

    assert run(["info", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "classification project" in out and "Skipped files (7):" in out
    assert re.search(r"^  cat +5  \(train 3, valid 2\)$", out, re.M), out
    assert run(["info", str(tmp_path / "p"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["task"] == "classification" and info["total"] == 11
    assert info["per_class"] == {"cat": 5, "dog": 6}
    assert len(info["skipped"]) == 7 and info["skipped"][0]["reason"]


def test_new_with_regex_csv_masks(tmp_path, capsys):
    d = tmp_path / "pets"
    write_image(d / "beagle_1.jpg", seed=1)
    write_image(d / "pug_2.jpg", seed=2)
    assert run(["new", str(tmp_path / "a"), "--from", str(d), "--label-regex", r"^(.+)_\d+"]) == 0
    assert "Added 2 images." in capsys.readouterr().out
    (d / "v.csv").write_text("beagle_1.jpg,4.5\npug_2.jpg,7\n")
    args = ["new", str(tmp_path / "b"), "--task", "regression", "--labels-csv", str(d / "v.csv")]
    assert run(args) == 0
    assert sorted(r.values for r in Project.open(tmp_path / "b").images()) == [(4.5,), (7.0,)]
    masks = tmp_path / "masks"
    masks.mkdir()
    from PIL import Image

    Image.new("L", (32, 24), 1).save(masks / "beagle_1.png")
    (tmp_path / "codes.txt").write_text("bg\ndog\n")
    args = ["new", str(tmp_path / "c"), "--task", "segmentation", "--from", str(d)]
    assert run([*args, "--masks", str(masks), "--codes", str(tmp_path / "codes.txt")]) == 0
    out = capsys.readouterr().out
    assert "unlabeled: 1" in out and "1: dog" in out


def test_usage_errors_exit_1_with_clear_message_no_traceback(tmp_path):
    def cli(*args):
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *args],
            capture_output=True, text=True, cwd=tmp_path, timeout=120,
        )  # fmt: skip

    r = cli("new", "p", "--from", "nowhere")
    assert r.returncode == 1 and "--from nowhere: no such folder" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "p").exists()
    r = cli("info", str(tmp_path))
    assert r.returncode == 1 and "is not a Topdown project" in r.stderr
    r = cli("new", "q", "--from", ".", "--label-regex", "(oops")
    assert r.returncode == 1 and "not a valid regular expression" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("demo", "d", "-n", "8")
    assert r.returncode == 0 and "Created a demo classification project" in r.stdout
    r = cli("demo", "d", "-n", "8")
    assert r.returncode == 1 and "already holds a Topdown project" in r.stderr

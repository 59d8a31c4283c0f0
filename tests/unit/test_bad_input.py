"""Every kind of bad input a user's files hold: handled correctly or skipped with a clear,
kept reason; never a crash, never a half-written project."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import engine.imaging
from engine.imaging import file_sha1
from engine.imports.api import import_csv, import_folder, import_segmentation
from engine.project.store import Project
from tests.support.images import (
    write_bad,
    write_big,
    write_class_folders,
    write_image,
    write_odd_good,
)

ROOT = Path(__file__).resolve().parents[2]


def test_bad_files_skipped_with_reasons_odd_modes_converted(tmp_path):
    src = tmp_path / "in"
    good = write_odd_good(src / "good")
    bad = write_bad(src / "bad")
    hashes = {f: file_sha1(f) for f in src.rglob("*") if f.is_file()}
    p = Project.create(tmp_path / "p", "classification")
    rep = import_folder(p, src)
    added = {r.name: (r.width, r.height) for r in p.images()}
    assert added == good  # every odd-mode image in, EXIF-rotated one with w/h swapped
    assert all(r.labels == ("good",) for r in p.images())
    reasons = {Path(path).name: reason for path, reason in rep.skipped}
    assert set(reasons) == set(bad)
    for name, word in bad.items():
        assert word in reasons[name], (name, reasons[name])
    assert "not an image file (extension .txt)" == reasons["notes.txt"]
    # kept in the project, with the full path of each file
    assert sorted(p.skipped()) == sorted(rep.skipped)
    assert all(Path(path).is_absolute() for path, _ in p.skipped())
    # originals untouched; the project's copies decode to upright RGB
    assert {f: file_sha1(f) for f in hashes} == hashes
    rot = next(r for r in p.images() if r.name == "rotated.jpg")
    assert engine.imaging.load_rgb(p.abspath(rot.file)).size == (20, 40)


def test_decompression_bomb_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(engine.imaging, "MAX_PIXELS", 10_000)
    write_big(tmp_path / "in" / "huge.png", 300, 300)
    write_image(tmp_path / "in" / "small.png", 20, 20)
    p = Project.create(tmp_path / "p", "classification")
    rep = import_folder(p, tmp_path / "in")
    assert len(rep.added) == 1
    ((path, reason),) = rep.skipped
    assert path.endswith("huge.png") and "too large" in reason and "300x300" in reason


def test_non_ascii_and_spaces_in_paths(tmp_path):
    src = tmp_path / "données d'été" / "chat noir"
    write_image(src / "猫 1.png", seed=1)
    write_image(src / "ça va.jpg", seed=2)
    p = Project.create(tmp_path / "projet à moi", "classification")
    rep = import_folder(p, src.parent)
    assert len(rep.added) == 2 and not rep.skipped
    assert p.counts().per_class == {"chat noir": 2}
    for r in p.images():
        assert p.abspath(r.file).is_file() and r.name in ("猫 1.png", "ça va.jpg")
    p.close()
    assert Project.open(tmp_path / "projet à moi").count() == 2


def test_bad_masks_skip_their_image(tmp_path):
    imgs, masks = tmp_path / "images", tmp_path / "masks"
    masks.mkdir()
    for name in ("ok", "small", "values", "colour"):
        write_image(imgs / f"{name}.jpg", 16, 12, seed=len(name))
    m = np.zeros((12, 16), np.uint8)
    m[3:6, 3:6] = 1
    Image.fromarray(m).save(masks / "ok.png")
    Image.fromarray(m[:6, :8]).save(masks / "small_mask.png")
    m2 = m.copy()
    m2[0, 0] = 7
    Image.fromarray(m2).save(masks / "values.png")
    rgb = np.zeros((12, 16, 3), np.uint8)
    rgb[..., 0] = 200
    Image.fromarray(rgb).save(masks / "colour.png")
    (tmp_path / "codes.txt").write_text("background\nthing\n")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_segmentation(p, imgs, masks, tmp_path / "codes.txt")
    assert [p.image(i).name for i in rep.added] == ["ok.jpg"]
    reasons = {Path(a).name: r for a, r in rep.skipped}
    assert reasons["small.jpg"] == "its mask small_mask.png is 8x6 pixels but the image is 16x12"
    assert "values 7 outside the class list (0-1" in reasons["values.jpg"]
    assert "colour mask" in reasons["colour.jpg"]
    assert sorted(p.skipped()) == sorted(rep.skipped)
    assert [f.name for f in (p.path / "masks").iterdir()] == ["ok.png"]


def test_csv_missing_files_and_non_numeric_regression(tmp_path):
    write_image(tmp_path / "a.png", seed=1)
    write_image(tmp_path / "b.png", seed=2)
    (tmp_path / "t.csv").write_text("a.png,2.5\nb.png,tall\nmissing.png,1\n,3\n")
    p = Project.create(tmp_path / "p", "regression")
    rep = import_csv(p, tmp_path / "t.csv")
    assert [r.values for r in p.images()] == [(2.5,)]
    reasons = [r for _, r in rep.skipped]
    assert reasons[0] == "the label in t.csv line 2 'tall' is not a number"
    assert reasons[1].startswith("listed in t.csv line 3 but not found in")
    assert reasons[2].startswith("listed in t.csv line 4")
    assert len(p.skipped()) == 3


KILL_SCRIPT = """
import sys
sys.path.insert(0, sys.argv[3])
import engine.imports.api as imp
from engine.project.store import Project
p = Project.create(sys.argv[1], "classification")
imp.import_folder(p, sys.argv[2], plan=imp.ImportPlan(tuning=imp.ImportTuning(batch=50)))
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_killed_import_leaves_a_project_that_opens(tmp_path):
    src = tmp_path / "src"
    write_class_folders(src, ("a", "b", "c"), per_class=400, size=8)
    proj = tmp_path / "p"
    child = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(proj), str(src), str(ROOT)])
    deadline = time.monotonic() + 60
    n = 0
    while time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.02)
        if (proj / "project.json").exists():
            try:
                db = sqlite3.connect(f"file:{proj / 'project.db'}?mode=ro", uri=True, timeout=1)
                n = db.execute("SELECT COUNT(*) FROM images").fetchone()[0]
                db.close()
            except sqlite3.Error:
                n = 0
            if n >= 100:
                os.kill(child.pid, signal.SIGKILL)
                break
    child.wait(30)
    assert child.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    p = Project.open(proj)
    recs = p.images()
    assert 100 <= len(recs) < 1200 and len(recs) % 50 == 0  # whole batches only
    assert all(p.abspath(r.file).is_file() for r in recs)
    assert sum(p.counts().per_class.values()) == len(recs)
    # a second import completes the project: the orphan copies only cost a name suffix
    rep = import_folder(p, src)
    assert p.count() == 1200 and len(rep.duplicates) == len(recs)

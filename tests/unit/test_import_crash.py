"""A killed import (issue 12): an import process SIGKILLed at several points leaves a project
whose next open clears what the import left (copies with no row, partial copies), assigns
splits to what was committed and says so; importing the same folder again brings the full set
with no duplicate and no renamed copy. One import per project at a time, across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import run
from engine.errors import ProjectError
from engine.imports.api import import_folder
from engine.project.recovery import TEMP_PREFIX
from engine.project.store import Project
from tests.support.faults import ROOT, audit, child_env, killed_import, reimport, write_sources

N = 150  # tiny images; batches of 40 -> four commits


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    return write_sources(tmp_path_factory.mktemp("src"), N)


@pytest.mark.parametrize(
    "point, at, notice",
    [
        ("copying", 3, "partly imported"),  # early: mid-copy before the first commit
        ("copying", 70, "partly imported"),  # mid-copy in the second batch
        ("named", 2, "never recorded"),  # batch 2 renamed, rows not committed
        ("committed", 3, "Assigned"),  # late: batch 3 committed, splits not assigned
        ("splitting", 1, "Assigned"),  # every row committed, splits not assigned
    ],
)
def test_killed_import_is_cleared_on_open_and_reimport_completes(tmp_path, src, point, at, notice):
    project_dir = tmp_path / "p"
    Project.create(project_dir, "classification").close()
    assert killed_import(project_dir, src, point, at) == -9
    left = os.listdir(project_dir / "images")
    assert left, "the kill came before anything was copied"
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"not the project's")
    (project_dir / "images" / "link.png").symlink_to(outside)  # no row, but not a copy

    with Project.open(project_dir) as p:  # clears up
        notices = p.notices
    assert any(notice in n for n in notices), notices
    assert outside.read_bytes() == b"not the project's"  # nothing outside is ever touched
    (project_dir / "images" / "link.png").unlink()
    after = audit(project_dir)
    assert after["orphans"] == [] and after["temps"] == [] and after["missing"] == []
    assert after["empty"] == [] and after["unsplit"] == 0 and after["notices"] == []
    committed = {"copying": 40 * (at // 40), "named": 40, "committed": 120, "splitting": N}[point]
    assert after["rows"] == committed
    assert after["per_split"].get("valid", 0) == round(committed * 0.2)  # the valid share too
    assert not (project_dir / ".import.lock").exists()  # the dead import's lock was taken over

    again = reimport(project_dir, src)
    assert again.returncode == 0 and "Traceback" not in again.stderr, again.stderr
    assert f"Added {N - committed} images" in again.stdout
    final = audit(project_dir)
    assert final["rows"] == N and final["renamed"] == [] and final["orphans"] == []
    assert final["temps"] == [] and final["notices"] == []
    names = sorted(os.listdir(project_dir / "images"))
    assert names == sorted(p.name for p in src.rglob("*.png"))  # no *_2, nothing missing


def test_cli_info_says_what_was_cleared(tmp_path, src, capsys):
    project_dir = tmp_path / "p"
    Project.create(project_dir, "classification").close()
    killed_import(project_dir, src, "named", 2)
    assert run(["info", str(project_dir)]) == 0
    err = capsys.readouterr().err
    assert "note: Moved 40 files that an interrupted import copied but never recorded" in err


HOLD = """
import sys
from engine.project import recovery
from engine.project.locks import project_lock
from engine.project.store import Project
with Project.open(sys.argv[1]) as p, project_lock(sys.argv[1], "import"):
    recovery.begin(p, {"valid_pct": 0.2, "test_pct": 0.0, "seed": 42})  # as an import does
    print("held", flush=True)
    sys.stdin.read()
"""


def _holder(project_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(project_dir)],
        cwd=ROOT,
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_second_import_is_refused_and_a_running_import_is_left_alone(tmp_path, src, capsys):
    project_dir = tmp_path / "p"
    Project.create(project_dir, "classification").close()
    lock = project_dir / ".import.lock"
    proc = _holder(project_dir)
    try:
        busy = project_dir / "images" / f"{TEMP_PREFIX}{proc.pid}-1.png"
        busy.write_bytes(b"being copied")  # the running import's copy in progress
        with Project.open(project_dir) as p:
            assert p.notices == [] and busy.exists()  # not cleared under a live import
            with pytest.raises(ProjectError, match=rf"Another import .*process {proc.pid} on "):
                import_folder(p, src)
            assert p.count() == 0
        assert run(["import", str(project_dir), "--from", str(src)]) == 1
        err = capsys.readouterr().err
        assert f"error: Another import is running on this project: process {proc.pid}" in err
        assert "Traceback" not in err
        assert json.loads(lock.read_text())["pid"] == proc.pid  # untouched by the refusals
    finally:
        proc.stdin.close()
        assert proc.wait(timeout=60) == 0
    assert not lock.exists()
    with Project.open(project_dir) as p:  # the holder is gone: its leftovers go
        assert not busy.exists() and p.notices
        assert import_folder(p, src).added and p.count() == N
    assert not lock.exists()

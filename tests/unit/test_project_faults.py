"""A write-protected project opens read-only (browse works, changes refused with a clear
message); a damaged project.db gives one clear message, never an sqlite traceback (issue 12).
The machine runs as root, so write protection is made with `chattr +i` (or injected)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from cli.main import run
from engine.errors import ProjectError
from engine.project import db as project_db
from engine.project.store import Project
from engine.project.thumbnails import thumbnail
from tests.support.projects import make_project


def _chattr(flag: str, *paths: Path) -> bool:
    r = subprocess.run(["chattr", "-R", flag, *map(str, paths)], capture_output=True)
    return r.returncode == 0


@pytest.fixture
def protect():
    """chattr +i on the given paths (undone after the test); skips where chattr cannot."""
    done: list[Path] = []

    def _protect(*paths: Path) -> None:
        if not _chattr("+i", *paths):
            pytest.skip("chattr +i is not available on this filesystem (the injected test runs)")
        done.extend(paths)

    yield _protect
    if done:
        _chattr("-i", *done)


def _one_line_error(capsys, argv: list[str]) -> str:
    assert run(argv) == 1
    out = capsys.readouterr()
    assert "Traceback" not in out.err and len(out.err.strip().splitlines()) == 1, out.err
    return out.err


def _check_read_only(project: Project) -> None:
    assert project.read_only
    assert len(project.images()) == 8 and sorted(project.class_names()) == ["blue", "red"]
    assert thumbnail(project, project.images()[0]).is_file()  # browsing works
    for change in (
        lambda: project.add_class("green"),
        lambda: project.set_labels([project.images()[0].id], ["blue"]),
        lambda: project.save_settings({"epochs": 1}),
    ):
        with pytest.raises(ProjectError, match="is read-only"):
            change()


def test_write_protected_folder_opens_read_only(tmp_path, protect, capsys):
    make_project(tmp_path / "p", n=8).close()
    before = (tmp_path / "p" / "project.db").read_bytes()
    protect(tmp_path / "p")
    with Project.open(tmp_path / "p") as project:
        _check_read_only(project)
    assert run(["info", str(tmp_path / "p")]) == 0
    assert "(read-only)" in capsys.readouterr().out
    err = _one_line_error(capsys, ["train", str(tmp_path / "p"), "--epochs", "1"])
    assert "read-only" in err
    assert (tmp_path / "p" / "project.db").read_bytes() == before


def test_write_protected_database_file_opens_read_only(tmp_path, protect):
    make_project(tmp_path / "p", n=8).close()
    protect(tmp_path / "p" / "project.db")
    with Project.open(tmp_path / "p") as project:
        _check_read_only(project)


def test_database_that_refuses_writes_opens_read_only_injected(tmp_path, monkeypatch):
    """Without chattr: a connection that cannot write, as a non-root user meets it."""
    make_project(tmp_path / "p", n=8).close()

    def read_only_connect(path):
        uri = (Path(path) / project_db.DB_FILE).as_uri() + "?mode=ro"
        db = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return db

    monkeypatch.setattr(project_db, "connect", read_only_connect)
    with Project.open(tmp_path / "p") as project:
        _check_read_only(project)


def test_damaged_database_is_named_and_left_alone(tmp_path, capsys):
    make_project(tmp_path / "p", n=8).close()
    db = tmp_path / "p" / "project.db"
    db.write_bytes(os.urandom(20000))
    before = db.read_bytes()
    with pytest.raises(ProjectError, match=r"project\.db is damaged"):
        Project.open(tmp_path / "p")
    for cmd in ("info", "train"):
        assert "is damaged" in _one_line_error(capsys, [cmd, str(tmp_path / "p")])
    assert db.read_bytes() == before  # never overwritten

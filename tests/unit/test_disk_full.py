"""A full, refusing or failing disk (issue 12) at import, labeling, checkpoint writes and export:
one clear error naming the folder and the remedy, nothing half-written left behind, the project
still opens with every completed change; files that could not be copied are recorded as
skipped. Injected OSErrors everywhere, and a real 2 MB tmpfs where mounting is permitted."""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from engine.errors import StorageError
from engine.export import backends as export_backends
from engine.export.api import ExportError, export_model
from engine.imports import copies, pipeline
from engine.imports.api import ImportPlan, import_folder
from engine.imports.pipeline import walk_files
from engine.models import checkpoint
from engine.project.dbguard import DbStorageError, translate
from engine.project.store import Project
from engine.training.train import train
from tests.support.faults import ROOT, audit, can_mount, child_env, resize, tmpfs, write_sources
from tests.support.projects import make_project, tiny_config
from tests.support.weights import save_tiny_model

N = 60
FULL = "the disk is full: free disk space on {}"


@pytest.fixture(scope="module")
def src(tmp_path_factory):
    return write_sources(tmp_path_factory.mktemp("src"), N)


def _fail_copy_after(monkeypatch, n: int, err: int) -> None:
    """The n-th copy into the project writes half its bytes, then the disk refuses."""
    write_temp, calls = copies.Copies.write_temp, [0]

    def patched(self, folder, ext, write):
        calls[0] += 1
        if calls[0] < n:
            return write_temp(self, folder, ext, write)

        def half(f):
            f.write(b"half")
            raise OSError(err, os.strerror(err))

        return write_temp(self, folder, ext, half)

    monkeypatch.setattr(copies.Copies, "write_temp", patched)


def test_disk_full_during_import_keeps_what_was_copied(tmp_path, src, monkeypatch):
    project = Project.create(tmp_path / "p", "classification")
    _fail_copy_after(monkeypatch, 25, errno.ENOSPC)
    images = project.path / "images"
    with pytest.raises(StorageError) as info:
        import_folder(project, src, plan=ImportPlan(tuning=pipeline.ImportTuning(batch=10)))
    msg = str(info.value)
    assert f"free disk space on {images} and retry" in msg
    assert "24 of 60 files were imported and kept" in msg
    assert project.count() == 24
    (path, why), *_ = project.skipped()
    assert path == str(walk_files(src)[24]) and "No space left on device" in why
    project.close()
    monkeypatch.undo()
    after = audit(project.path)  # no temporary, zero-byte or row-less copy; splits assigned
    assert after["orphans"] == after["temps"] == after["empty"] == [] and after["unsplit"] == 0
    assert after["rows"] == 24 and after["per_split"]["valid"] == 5
    with Project.open(project.path) as p:  # space freed: the rest comes in, nothing renamed
        assert len(import_folder(p, src).added) == N - 24 and p.count() == N
    assert audit(project.path)["renamed"] == []


def test_cli_import_on_a_full_disk_prints_one_line(tmp_path, src, monkeypatch, capsys):
    from cli.main import run

    _fail_copy_after(monkeypatch, 10, errno.ENOSPC)
    assert run(["new", str(tmp_path / "p"), "--from", str(src)]) == 1
    out = capsys.readouterr()
    images = (tmp_path / "p" / "images").resolve()
    assert out.err.startswith(f"error: Failed copying images into the project in {images}: ")
    assert "free disk space" in out.err and "9 of 60 files were imported" in out.err
    assert "Traceback" not in out.err + out.out and len(out.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "err, remedy",
    [
        (errno.EACCES, "permission denied: make {} writable"),
        (errno.EROFS, "{} is on a read-only disk"),
        (errno.EIO, "the disk reported an I/O error"),
    ],
)
def test_refusing_disk_during_import_names_folder_and_remedy(
    tmp_path, src, monkeypatch, err, remedy
):
    project = Project.create(tmp_path / "p", "classification")
    _fail_copy_after(monkeypatch, 1, err)
    with pytest.raises(StorageError, match=re.escape(remedy.format(project.path / "images"))):
        import_folder(project, src)
    assert project.count() == 0
    assert [n for n in os.listdir(project.path / "images")] == []  # not even a temp file


def test_database_full_while_labeling_keeps_earlier_changes(tmp_path):
    """Bulk labeling until the database cannot grow (sqlite's max_page_count stands in for a
    full disk): one StorageError naming the project, the completed label changes kept."""
    project = make_project(tmp_path / "p", "multilabel", n=200, size=8)
    ids = project.query()
    names = [f"tag {k}" for k in range(40)]
    for name in names:
        project.add_class(name)
    pages = project._db.execute("PRAGMA page_count").fetchone()[0]
    project._db.execute(f"PRAGMA max_page_count={pages + 2}")  # the disk is full from now on
    done = []
    with pytest.raises(StorageError) as info:
        for name in names:
            project.toggle_label(ids, name, True)
            done.append(name)
    error = info.value
    assert isinstance(error, DbStorageError) and isinstance(error, sqlite3.OperationalError)
    assert f"the disk is full: free disk space on {project.path} and retry" in str(error)
    assert "Every change saved before this one is kept" in str(error)
    assert 0 < len(done) < len(names)
    project.close()
    with Project.open(tmp_path / "p") as p:
        labels = set(p.image(ids[-1]).labels)
        assert set(done) <= labels and names[len(done)] not in labels  # all or nothing


def test_sqlite_errors_that_are_not_storage_stay_as_they_are():
    busy = sqlite3.OperationalError("database is locked")
    assert translate(busy, "/p") is busy
    full = translate(sqlite3.OperationalError("database or disk is full"), "/p")
    assert isinstance(full, StorageError) and "free disk space on /p" in str(full)


@pytest.mark.parametrize(
    "failure, says",
    [
        (RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 64 vs 48"), FULL),
        (OSError(errno.ENOSPC, "No space left on device"), FULL),
        (OSError(errno.EACCES, "Permission denied"), "permission denied: make {} writable"),
    ],
)  # fmt: skip
def test_checkpoint_write_failure_removes_temp_and_keeps_old_model(
    tmp_path, monkeypatch, failure, says
):
    target = tmp_path / "models" / "best.pt"
    target.parent.mkdir()
    checkpoint.atomic_save({"epoch": 1}, target)
    before = target.read_bytes()

    def failing_save(obj, f, *a, **k):
        f.write(b"PK half a zip")
        raise failure

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(StorageError, match=re.escape(says.format(target.parent))):
        checkpoint.atomic_save({"epoch": 2}, target)
    assert os.listdir(target.parent) == ["best.pt"] and target.read_bytes() == before


def test_training_on_a_full_disk_says_so_and_leaves_no_temp(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", "classification", n=16)

    def full(obj, f, *a, **k):
        f.write(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 2 vs 0")

    monkeypatch.setattr(torch, "save", full)
    with pytest.raises(StorageError, match="the disk is full: free disk space on .*models"):
        train(project, tiny_config(epochs=1, freeze_epochs=0))
    left = [p.name for p in (project.path / "models").rglob("*") if p.name.endswith(".tmp")]
    assert left == [] and not (project.path / "models" / ".train.lock").exists()
    project.close()
    Project.open(project.path).close()


def test_export_on_a_full_disk_names_folder_and_leaves_nothing(tmp_path, monkeypatch):
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("a", "b"))

    def short_write(fmt, wrapped, size, path, exporter="legacy"):
        Path(path).write_bytes(b"half a model")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 12 vs 0")

    monkeypatch.setattr(export_backends, "write_model", short_write)
    out = tmp_path / "out"
    with pytest.raises(ExportError, match=re.escape(f"free disk space on {out} and retry")):
        export_model(model, "torchscript", out)
    assert not out.exists()


MOUNT = can_mount()


@pytest.mark.skipif(bool(MOUNT), reason=MOUNT or "")
def test_import_onto_a_real_full_disk_tmpfs(tmp_path):
    """A 2 MB tmpfs and 3 MB of images: `topdown new` stops with one message, no traceback;
    what it kept opens; after more room, `topdown import` brings the rest, nothing renamed."""
    data = write_sources(tmp_path / "src", 300, size=48)
    with tmpfs(tmp_path / "mnt", "2m") as mnt:
        cmd = [sys.executable, str(ROOT / "main.py"), "new", str(mnt / "p"), "--from", str(data)]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), timeout=300)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
        assert f"free disk space on {mnt / 'p' / 'images'} and retry" in proc.stderr
        kept = audit(mnt / "p")
        assert kept["orphans"] == kept["temps"] == kept["empty"] == kept["missing"] == []
        assert 0 < kept["rows"] < 300 and kept["unsplit"] == 0
        with Project.open(mnt / "p") as p:
            assert any("No space left on device" in why for _, why in p.skipped())
        resize(mnt, "64m")
        cmd[2:4] = ["import", str(mnt / "p")]
        proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env(), timeout=300)
        assert proc.returncode == 0, proc.stderr
        done = audit(mnt / "p")
        assert done["rows"] == 300 and done["renamed"] == [] and done["orphans"] == []

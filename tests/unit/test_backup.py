"""Rolling backups of project.db and restoring one over a damaged database (issue 12): the
backup holds the labels as they were when it was taken, restore keeps the damaged file, and
the CLI says how old the restored backup is, in one line per fact, never a traceback."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from cli.main import run
from engine.errors import DamagedProjectError, ProjectError
from engine.project import backup
from engine.project.store import Project
from tests.support.projects import make_project


def _labels(project: Project) -> dict[str, list[str]]:
    return {r.name: sorted(r.labels) for r in project.images()}


def _damage(path) -> bytes:
    db = path / "project.db"
    db.write_bytes(os.urandom(30000))
    return db.read_bytes()


def test_backup_on_close_holds_the_changes_made_before_it(tmp_path):
    project = make_project(tmp_path / "p", n=8)
    first = project.images()[0]
    project.set_labels([first.id], ["blue"])
    labels = _labels(project)
    project.close()
    newest = backup.backups(tmp_path / "p")[0]
    db = sqlite3.connect(newest.file)
    rows = db.execute(
        "SELECT c.name FROM labels l JOIN classes c ON c.id=l.class_id WHERE l.image_id=?",
        (first.id,),
    ).fetchall()
    db.close()
    assert rows == [("blue",)] and labels[first.name] == ["blue"]
    assert time.time() - newest.taken < 60
    assert not list((tmp_path / "p" / backup.BACKUP_DIR).glob(".*tmp"))  # no temp file left


def test_backups_roll_and_follow_changes(tmp_path, monkeypatch):
    monkeypatch.setattr(backup, "EVERY_CHANGES", 2)
    project = make_project(tmp_path / "p", n=8)
    ids = [r.id for r in project.images()]
    for iid in ids[:8]:
        project.set_labels([iid], ["red"])
    project.close()
    found = backup.backups(tmp_path / "p")
    assert len(found) == backup.KEEP  # more were taken; only the newest KEEP stay
    assert [b.taken for b in found] == sorted((b.taken for b in found), reverse=True)


def test_damaged_db_restored_from_backup_keeps_the_damaged_file(tmp_path, capsys):
    project = make_project(tmp_path / "p", n=8)
    project.set_labels([project.images()[0].id], ["blue"])
    expected = _labels(project)
    project.close()  # the backup now holds `expected`
    damaged = _damage(tmp_path / "p")

    with pytest.raises(DamagedProjectError, match=r"project\.db is damaged") as err:
        Project.open(tmp_path / "p")
    assert "topdown-cli restore" in str(err.value) and "minute old" in str(err.value)

    assert run(["restore", str(tmp_path / "p")]) == 0
    out = capsys.readouterr().out
    assert "Restored" in out and "less than a minute old" in out and "damaged-" in out
    kept = list((tmp_path / "p").glob("project.db.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # never overwritten
    with Project.open(tmp_path / "p") as project:
        assert not project.read_only
        assert _labels(project) == expected


def test_restore_refuses_a_healthy_database_and_a_project_without_backups(tmp_path, capsys):
    make_project(tmp_path / "p", n=4).close()
    before = (tmp_path / "p" / "project.db").read_bytes()
    assert run(["restore", str(tmp_path / "p")]) == 1
    err = capsys.readouterr().err
    assert "is not damaged" in err and "Traceback" not in err
    assert (tmp_path / "p" / "project.db").read_bytes() == before

    for f in backup.backups(tmp_path / "p"):
        f.file.unlink()
    damaged = _damage(tmp_path / "p")
    with pytest.raises(ProjectError, match="no backup"):
        Project.open(tmp_path / "p")
    assert run(["restore", str(tmp_path / "p")]) == 1
    assert "no usable backup" in capsys.readouterr().err
    assert (tmp_path / "p" / "project.db").read_bytes() == damaged


def test_a_damaged_backup_is_passed_over(tmp_path):
    project = make_project(tmp_path / "p", n=4)
    project.set_labels([project.images()[0].id], ["blue"])
    expected = _labels(project)
    project.close()
    older = backup.backups(tmp_path / "p")[0]
    newer = older.file.with_name("project.db.29990101T000000.000000Z")  # newest by name
    newer.write_bytes(os.urandom(5000))
    _damage(tmp_path / "p")
    restored = backup.restore(tmp_path / "p")
    assert restored.backup.file == older.file
    with Project.open(tmp_path / "p") as project:
        assert _labels(project) == expected


def test_missing_database_is_restored_too(tmp_path):
    make_project(tmp_path / "p", n=4).close()
    (tmp_path / "p" / "project.db").unlink()
    with pytest.raises(DamagedProjectError, match="missing its database.*restore"):
        Project.open(tmp_path / "p")
    assert backup.restore(tmp_path / "p").kept is None
    with Project.open(tmp_path / "p") as project:
        assert len(project.images()) == 4


def test_no_backup_of_a_read_only_project(tmp_path, monkeypatch):
    make_project(tmp_path / "p", n=4).close()
    for f in backup.backups(tmp_path / "p"):
        f.file.unlink()

    def read_only_connect(path):
        uri = (path / "project.db").as_uri() + "?mode=ro"
        return sqlite3.connect(uri, uri=True, check_same_thread=False)

    from engine.project import db as project_db

    monkeypatch.setattr(project_db, "connect", read_only_connect)
    with Project.open(tmp_path / "p") as project:
        assert project.read_only
    assert backup.backups(tmp_path / "p") == []


def test_database_whose_copy_fails_its_check_is_reported_damaged(tmp_path, monkeypatch):
    make_project(tmp_path / "p", n=4).close()
    for f in backup.backups(tmp_path / "p"):
        f.file.unlink()
    real_take = backup.take

    def failing_take(db, path):
        raise backup.DamagedCopy("the copy failed its check")

    monkeypatch.setattr(backup, "take", failing_take)
    with pytest.raises(DamagedProjectError, match="is damaged"):
        Project.open(tmp_path / "p")
    monkeypatch.setattr(backup, "take", real_take)
    with Project.open(tmp_path / "p") as project:  # nothing was changed by the failed try
        assert len(project.images()) == 4


def test_damage_inside_the_file_is_found_on_open(tmp_path):
    """A database whose header is intact but whose pages are not is reported on open (with the
    restore offer), not by some later query."""
    project = make_project(tmp_path / "p", n=4)
    project.close()
    db_file = tmp_path / "p" / "project.db"
    raw = sqlite3.connect(db_file)
    raw.execute("CREATE TABLE filler (t TEXT)")
    raw.executemany("INSERT INTO filler VALUES (?)", [("x" * 200,)] * 3000)
    raw.commit()
    page = raw.execute("PRAGMA page_size").fetchone()[0]
    raw.close()
    data = bytearray(db_file.read_bytes())
    middle = (len(data) // page // 2) * page
    data[middle : middle + 64] = os.urandom(64)  # a b-tree page header, mid-file
    db_file.write_bytes(bytes(data))
    with pytest.raises(DamagedProjectError, match=r"project\.db is damaged"):
        Project.open(tmp_path / "p")

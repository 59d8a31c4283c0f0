"""The project store: create/open, versions, moving the folder, queries, thumbnails."""

from __future__ import annotations

import json
import shutil
import sqlite3
import threading

import pytest
from PIL import Image

from engine.imaging import BadImage, file_sha1
from engine.project.store import NewerVersionError, NewImage, Project, ProjectError
from engine.project.thumbnails import clear_thumbnails, thumbnail
from tests.support.images import write_exif_rotated, write_image


def _add(p: Project, path, labels=()):
    return p.add_images(
        [NewImage(str(path.relative_to(p.path)), path.name, "", file_sha1(path), 1, 1, labels)]
    )[0]


def test_newer_schema_version_is_refused_with_clear_message(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    p.close()
    pj = tmp_path / "p" / "project.json"
    meta = json.loads(pj.read_text())
    meta["schema_version"] = 999
    pj.write_text(json.dumps(meta))
    with pytest.raises(NewerVersionError, match="newer version of Topdown.*999"):
        Project.open(tmp_path / "p")


def test_not_a_project_and_existing_project(tmp_path):
    with pytest.raises(ProjectError, match="not a Topdown project"):
        Project.open(tmp_path)
    Project.create(tmp_path / "p", "regression").close()
    with pytest.raises(ProjectError, match="already holds"):
        Project.create(tmp_path / "p", "regression")
    with pytest.raises(ProjectError, match="Unknown task"):
        Project.create(tmp_path / "q", "detection")


def test_moved_project_keeps_working(tmp_path):
    p = Project.create(tmp_path / "a", "classification")
    img = write_image(p.path / "images" / "x.png")
    iid = _add(p, img, ["cat"])
    p.close()
    shutil.move(tmp_path / "a", tmp_path / "b")
    q = Project.open(tmp_path / "b")
    rec = q.image(iid)
    assert q.abspath(rec.file).is_file()
    assert rec.labels == ("cat",)
    assert thumbnail(q, rec).is_file()


def test_query_and_counts(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    p.ensure_classes(["cat", "dog"])
    items = [
        NewImage(
            f"images/{i}.png",
            f"pic_{i}.png",
            "",
            f"s{i}",
            4,
            4,
            ["cat"] if i < 6 else ["dog"] if i < 9 else [],
        )
        for i in range(12)
    ]
    ids = p.add_images(items)
    p.assign_splits(0.34, seed=1)
    c = p.counts()
    assert c.total == 12 and c.unlabeled == 3
    assert c.per_class == {"cat": 6, "dog": 3}
    assert sum(c.per_split.values()) == 12 and c.per_split["valid"] >= 3
    assert p.query(label="dog") == ids[6:9]
    assert p.query(unlabeled=True) == ids[9:]
    assert p.query(name_contains="_1") == [ids[1], ids[10], ids[11]]
    assert p.query(name_contains="%") == []


def test_thumbnail_cached_small_upright_and_threadsafe(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    big = write_image(p.path / "images" / "big.jpg", 400, 200)
    rot = write_exif_rotated(p.path / "images" / "rot.jpg", 60, 30)
    r1 = p.image(_add(p, big))
    r2 = p.image(_add(p, rot))
    t = thumbnail(p, r1, 64)
    assert t.parent == p.path / "thumbs" and r1.sha1 in t.name
    assert Image.open(t).size == (64, 32)
    assert Image.open(thumbnail(p, r2, 64)).size == (30, 60)  # EXIF rotation applied
    mtime = t.stat().st_mtime_ns
    assert thumbnail(p, r1, 64).stat().st_mtime_ns == mtime  # reused, not remade
    assert thumbnail(p, r1, 32) != t  # keyed by size too

    clear_thumbnails(p)
    errors, paths = [], []

    def work():
        try:
            paths.append(thumbnail(p, r1, 48))
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors and len(set(paths)) == 1
    assert Image.open(paths[0]).size == (48, 24)
    assert not [f for f in (p.path / "thumbs").iterdir() if f.name.endswith(".tmp")]


def test_thumbnail_of_bad_file_raises_badimage(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    f = p.path / "images" / "broken.png"
    f.write_bytes(b"nope")
    rec = p.image(_add(p, f))
    with pytest.raises(BadImage, match="broken.png"):
        thumbnail(p, rec)


def test_a_failed_batch_saves_nothing_of_itself(tmp_path):
    """Every change is one transaction: a batch that fails part-way leaves no half of it."""
    p = Project.create(tmp_path / "p", "classification")
    p.add_images([NewImage(file="images/a.png", name="a.png", source="", sha1="a", width=1,
                           height=1, labels=["cat"])])  # fmt: skip
    batch = [
        NewImage(
            file=f"images/{n}.png",
            name=f"{n}.png",
            source="",
            sha1=n,
            width=1,
            height=1,
            labels=["dog"],
        )  # fmt: skip
        for n in ("b", "c", "a")  # the third clashes with a file already in the project
    ]
    with pytest.raises((ProjectError, sqlite3.IntegrityError)):
        p.add_images(batch)
    p.close()
    with Project.open(tmp_path / "p") as again:
        assert [r.name for r in again.images()] == ["a.png"]
        assert again.counts().per_class.get("dog", 0) == 0

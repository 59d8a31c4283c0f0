"""Removing images from a project: the project's copy, mask and thumbnails go to its trash and
the rows leave; undo brings back files and rows (same ids, labels, splits); the user's originals
are never touched; the trash is cleaned when the step can no longer be undone."""

from __future__ import annotations

import os
import time

import pytest

from engine.imaging import file_sha1
from engine.imports.api import import_folder, import_paths
from engine.project.history import History
from engine.project.removal import TRASH_DIR
from engine.project.store import Project, ProjectError
from engine.project.thumbnails import thumbnail
from tests.support.images import write_class_folders, write_seg_folder


def _files(p: Project) -> set[str]:
    return {
        str(f.relative_to(p.path))
        for sub in ("images", "masks", "thumbs")
        for f in (p.path / sub).iterdir()
    }


def _trash(p: Project) -> list[str]:
    d = p.path / TRASH_DIR
    return sorted(os.listdir(d)) if d.is_dir() else []


def test_remove_then_undo_restores_files_rows_labels_and_splits(tmp_path):
    src = tmp_path / "src"
    originals = write_class_folders(src, ("cat", "dog"), per_class=3)
    before_src = {f: file_sha1(f) for f in originals}
    p = Project.create(tmp_path / "p", "classification")
    import_folder(p, src)
    for r in p.images():
        thumbnail(p, r, 64)
    p.set_split([p.images()[0].id], "test")
    records = {r.id: r for r in p.images()}
    files = _files(p)
    gone = [r.id for r in p.images()[:2]]
    h = History(p)

    assert h.remove_images(gone) == 2 and h.undo_text == "remove 2 images"
    assert p.count() == 4 and not set(gone) & {r.id for r in p.images()}
    for i in gone:
        r = records[i]
        assert not p.abspath(r.file).exists()
        assert not list((p.path / "thumbs").glob(f"{r.sha1}_*"))
    assert p.counts().per_class == {"cat": 1, "dog": 3}
    assert len(_trash(p)) == 1
    assert {f: file_sha1(f) for f in originals} == before_src  # originals untouched

    assert h.undo() == "remove 2 images"
    assert {r.id: r for r in p.images()} == records  # same ids, files, labels, splits
    assert _files(p) == files and _trash(p) == []
    assert p.split_state([gone[0]])[gone[0]] == ("test", 2)

    assert h.redo() == "remove 2 images" and p.count() == 4
    new = import_folder(p, tmp_path / "src" / "dog").added  # duplicates: nothing new
    assert new == []
    write_class_folders(tmp_path / "more", ("cat",), per_class=1, seed=9)
    new = import_folder(p, tmp_path / "more").added
    assert not set(new) & set(gone)  # a removed image's id is never given to another
    assert h.undo() == "remove 2 images" and p.count() == 7


def test_segmentation_mask_goes_and_comes_back(tmp_path):
    ds = tmp_path / "ds"
    write_seg_folder(ds / "images", ds / "masks", 3)
    p = Project.create(tmp_path / "p", "segmentation")
    import_paths(p, [ds])
    rec = p.images()[1]
    h = History(p)
    h.remove_images([rec.id])
    assert not p.abspath(rec.mask).exists() and not p.abspath(rec.file).exists()
    assert (ds / "masks" / "im0_1.png").is_file()  # the dataset's own mask stays
    h.undo()
    back = p.image(rec.id)
    assert back == rec and p.abspath(back.mask).is_file()


def test_trash_is_cleaned_when_undo_is_no_longer_possible(tmp_path):
    write_class_folders(tmp_path / "src", ("a", "b"), per_class=2)
    p = Project.create(tmp_path / "p", "classification")
    import_folder(p, tmp_path / "src")
    ids = [r.id for r in p.images()]
    h = History(p, limit=1)
    h.remove_images(ids[:1])
    h.remove_images(ids[1:2])  # pushes the first removal out of the history: its files go
    assert len(_trash(p)) == 1
    h.clear()
    assert _trash(p) == []
    h.remove_images(ids[2:3])
    p.close()  # closing ends this session's undo: its trash goes
    assert _trash(p) == []

    # a crashed session's leftovers go when the project is opened a day later
    stale = tmp_path / "p" / TRASH_DIR / "123-1"
    stale.mkdir(parents=True)
    (stale / "x.png").write_bytes(b"x")
    fresh = tmp_path / "p" / TRASH_DIR / "456-1"
    fresh.mkdir()
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    Project.open(tmp_path / "p").close()
    assert _trash(Project.open(tmp_path / "p")) == ["456-1"]


def test_undo_after_the_trash_is_gone_says_so_and_changes_nothing(tmp_path):
    write_class_folders(tmp_path / "src", ("a", "b"), per_class=2)
    p = Project.create(tmp_path / "p", "classification")
    import_folder(p, tmp_path / "src")
    h = History(p)
    h.remove_images([p.images()[0].id])
    import shutil

    shutil.rmtree(p.path / TRASH_DIR)
    with pytest.raises(ProjectError, match="cannot be restored"):
        h.undo()
    assert p.count() == 3


def test_removing_unknown_ids_is_a_no_op(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    h = History(p)
    assert h.remove_images([99]) == 0 and not h.can_undo

"""Saving painted masks through the project store: atomic PNG + row, present classes, undo."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from engine.project.history import History
from engine.project.store import NewImage, Project, ProjectError


def _seg(tmp_path, n=2, size=(24, 16)):
    p = Project.create(tmp_path / "seg", "segmentation")
    p.ensure_classes(["background", "road", "car"])
    items = []
    for i in range(n):
        rel = f"images/im_{i}.png"
        Image.fromarray(np.full((size[1], size[0], 3), 90 + i, np.uint8)).save(p.path / rel)
        sha = hashlib.sha1((p.path / rel).read_bytes()).hexdigest()
        items.append(NewImage(rel, f"im_{i}.png", "t", sha, size[0], size[1]))
    ids = p.add_images(items)
    return p, ids


def test_save_mask_writes_png_records_classes_and_counts_as_labeled(tmp_path):
    p, ids = _seg(tmp_path)
    assert p.query(unlabeled=True) == ids  # no mask yet: unlabeled
    m = np.full((16, 24), 255, np.uint8)
    m[2:5, 3:9] = 2
    rel = p.save_mask(ids[0], m)
    assert np.array_equal(np.asarray(Image.open(p.path / rel)), m)  # palette indices = values
    rec = p.image(ids[0])
    assert rec.mask == rel and rec.labels == ("car",)
    assert not list((p.path / "masks").glob(".*tmp"))  # no temp file left behind
    assert p.query(unlabeled=True) == [ids[1]] and p.query(label="car") == [ids[0]]
    p.close()
    q = Project.open(tmp_path / "seg")
    assert np.array_equal(q.read_mask(ids[0]), m) and q.image(ids[1]).mask is None
    q.close()


def test_bad_masks_are_refused_and_nothing_is_overwritten(tmp_path):
    p, ids = _seg(tmp_path)
    good = np.zeros((16, 24), np.uint8)
    rel = p.save_mask(ids[0], good)
    before = (p.path / rel).read_bytes()
    with pytest.raises(ProjectError, match=r"im_0.png.*25 × 16.*24 × 16"):
        p.save_mask(ids[0], np.zeros((16, 25), np.uint8))
    bad = good.copy()
    bad[0, 0] = 7
    with pytest.raises(ProjectError, match=r"im_0.png: mask value 7 has no class"):
        p.save_mask(ids[0], bad)
    assert (p.path / rel).read_bytes() == before
    assert p.image(ids[0]).labels == ("background",)


def test_paint_steps_undo_and_redo_pixel_for_pixel(tmp_path):
    p, ids = _seg(tmp_path)
    h = History(p)
    first = np.full((16, 24), 255, np.uint8)
    first[0:3, 0:3] = 1
    h.paint_mask(ids[0], None, first, "brush")
    second = first.copy()
    second[10:12, 20:22] = 2
    h.paint_mask(ids[0], first, second, "fill")
    assert p.image(ids[0]).labels == ("road", "car")
    assert h.undo().startswith("fill")
    assert np.array_equal(p.read_mask(ids[0]), first) and p.image(ids[0]).labels == ("road",)
    h.undo()
    assert p.image(ids[0]).mask is None and not list((p.path / "masks").iterdir())
    h.redo()
    assert np.array_equal(p.read_mask(ids[0]), first)
    h.redo()
    assert np.array_equal(p.read_mask(ids[0]), second)
    assert not h.can_redo


def test_a_failed_write_keeps_the_old_mask_and_leaves_no_temp_file(tmp_path, monkeypatch):
    import engine.atomic as atomic
    from engine.errors import StorageError

    p, ids = _seg(tmp_path)
    old = np.zeros((16, 24), np.uint8)
    rel = p.save_mask(ids[0], old)
    before = (p.path / rel).read_bytes()

    def killed(src, dst):  # the process dies between writing the temp file and the rename
        raise OSError("No space left on device")

    monkeypatch.setattr(atomic.os, "replace", killed)
    with pytest.raises(StorageError, match="free disk space"):
        p.save_mask(ids[0], np.ones((16, 24), np.uint8))
    assert (p.path / rel).read_bytes() == before
    assert p.image(ids[0]).labels == ("background",)  # the row was not touched either
    assert sorted(f.name for f in (p.path / "masks").iterdir()) == [rel.split("/")[1]]


def test_erasing_everything_takes_the_mask_away_undoably(tmp_path):
    p, ids = _seg(tmp_path)
    h = History(p)
    m = np.full((16, 24), 255, np.uint8)
    m[3:6, 4:9] = 2
    h.paint_mask(ids[0], None, m, "brush")
    h.paint_mask(ids[0], m, np.full_like(m, 255), "eraser")
    assert p.image(ids[0]).mask is None and ids[0] in p.query(unlabeled=True)
    h.undo()
    assert np.array_equal(p.read_mask(ids[0]), m) and p.image(ids[0]).labels == ("car",)
    h.redo()
    assert p.image(ids[0]).mask is None
    h.paint_mask(ids[0], None, np.full_like(m, 255), "eraser")  # nothing painted: no mask, no step
    assert p.image(ids[0]).mask is None and h.undo_text.startswith("eraser on the mask")

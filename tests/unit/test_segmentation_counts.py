"""Segmentation: the classes present in each mask are the image's labels, so per-class counts,
the class filter and `info` work as in the other tasks; "unlabeled" still means "no mask"."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
from PIL import Image

from engine.imaging import load_mask, mask_values
from engine.imports.api import import_segmentation
from engine.project.demo import SHAPES, create_demo_project
from engine.project.store import MASK_LABELS_KEY, Project, ProjectError
from tests.support.images import write_image


def _seg_folder(tmp_path):
    """5 images: a (bg+cat), b (bg+dog), c (cat+dog+255), d (bg only), e (no mask)."""
    imgs, masks = tmp_path / "images", tmp_path / "masks"
    masks.mkdir(parents=True)
    for k, stem in enumerate("abcde"):
        write_image(imgs / f"{stem}.png", 16, 12, seed=k)
    layouts = {"a": (0, 1), "b": (0, 2), "c": (255, 1, 2), "d": (0,)}
    for stem, vals in layouts.items():
        m = np.zeros((12, 16), np.uint8)
        for j, v in enumerate(vals):
            m[:, j * 4 :] = v
        Image.fromarray(m, "L").save(masks / f"{stem}_mask.png")
    (tmp_path / "codes.txt").write_text("background\ncat\ndog\n")
    return imgs, masks, tmp_path / "codes.txt"


def _by_name(p, ids):
    return sorted(r.name for r in p.images(ids))


def test_import_segmentation_counts_and_query(tmp_path):
    imgs, masks, codes = _seg_folder(tmp_path / "src")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_segmentation(p, imgs, masks, codes)
    assert len(rep.added) == 5 and not rep.skipped
    c = p.counts()
    assert c.per_class == {"background": 3, "cat": 2, "dog": 2}
    assert sum(sum(s.values()) for s in c.per_class_split.values()) == 7
    assert c.unlabeled == 1
    assert _by_name(p, p.query(label="cat")) == ["a.png", "c.png"]
    assert _by_name(p, p.query(label="dog")) == ["b.png", "c.png"]
    assert _by_name(p, p.query(label="background")) == ["a.png", "b.png", "d.png"]
    assert _by_name(p, p.query(unlabeled=True)) == ["e.png"]  # no mask, not "no classes"
    rec = p.images(p.query(name_contains="c.png"))[0]
    assert rec.labels == ("cat", "dog")  # 255 is not a class
    # a mask holding only 255 still counts as labeled (it has a mask)
    e = p.query(unlabeled=True)[0]
    Image.fromarray(np.full((12, 16), 255, np.uint8), "L").save(p.abspath("masks/e.png"))
    p.set_mask(e, "masks/e.png")
    assert p.query(unlabeled=True) == [] and p.image(e).labels == ()


def test_demo_segmentation_counts_match_masks(tmp_path):
    p = create_demo_project(tmp_path / "d", "segmentation", n=24, size=48)
    c = p.counts()
    assert c.total == 24 and c.unlabeled == 0
    expected = dict.fromkeys(["background", *SHAPES], 0)
    for r in p.images():
        present = p.mask_classes(mask_values(load_mask(p.abspath(r.mask))))
        assert list(r.labels) == present
        for n in present:
            expected[n] += 1
    assert c.per_class == expected
    assert all(c.per_class[s] > 0 for s in SHAPES)
    circles = p.query(label="circle")
    assert len(circles) == c.per_class["circle"]
    assert all("circle" in r.labels for r in p.images(circles))
    assert p.query(unlabeled=True) == []


def test_set_mask_records_present_classes(tmp_path):
    imgs, masks, codes = _seg_folder(tmp_path / "src")
    p = Project.create(tmp_path / "p", "segmentation")
    import_segmentation(p, imgs, masks, codes)
    events = []
    p.subscribe(lambda kind, ids: events.append((kind, ids)))
    iid = p.query(unlabeled=True)[0]
    m = np.full((12, 16), 2, np.uint8)
    Image.fromarray(m, "L").save(p.abspath("masks/e.png"))
    p.set_mask(iid, "masks/e.png")  # read from the file
    assert p.image(iid).labels == ("dog",) and p.counts().per_class["dog"] == 3
    p.set_mask(iid, "masks/e.png", present=["background", "cat"])  # caller knows
    assert p.image(iid).labels == ("background", "cat")
    p.set_mask(iid, None)  # no mask: no labels, unlabeled again
    assert p.image(iid).labels == () and p.query(unlabeled=True) == [iid]
    assert events and all(k == "labels" for k, _ in events)
    with pytest.raises(ProjectError):
        p.set_mask(iid, "masks/e.png", present=["no such class"])
    assert p.image(iid).mask is None  # nothing half-done


def test_manual_labels_refused_for_segmentation(tmp_path):
    imgs, masks, codes = _seg_folder(tmp_path / "src")
    p = Project.create(tmp_path / "p", "segmentation")
    import_segmentation(p, imgs, masks, codes)
    ids = p.query()
    with pytest.raises(ProjectError, match="mask"):
        p.set_labels(ids, ["cat"])
    with pytest.raises(ProjectError, match="mask"):
        p.toggle_label(ids, "cat", True)
    with pytest.raises(ProjectError, match="mask"):
        p.merge_classes(["cat"], "dog")  # mask values stay; merging would mislabel pixels
    assert p.counts().per_class == {"background": 3, "cat": 2, "dog": 2}


def test_old_project_backfilled_once_on_open(tmp_path):
    imgs, masks, codes = _seg_folder(tmp_path / "src")
    p = Project.create(tmp_path / "p", "segmentation")
    import_segmentation(p, imgs, masks, codes)
    want = p.counts().per_class
    p.close()
    # make it look like a project from before: no label rows, no marker
    db = sqlite3.connect(tmp_path / "p" / "project.db")
    with db:
        db.execute("DELETE FROM labels")
        db.execute("DELETE FROM meta WHERE key=?", (MASK_LABELS_KEY,))
    db.close()
    with Project.open(tmp_path / "p") as p2:
        assert p2.counts().per_class == want
        assert _by_name(p2, p2.query(label="cat")) == ["a.png", "c.png"]
        assert len(p2.query(unlabeled=True)) == 1
    # once: the marker is set, so rows removed afterwards are not re-created on open
    db = sqlite3.connect(tmp_path / "p" / "project.db")
    with db:
        assert db.execute("SELECT value FROM meta WHERE key=?", (MASK_LABELS_KEY,)).fetchone()
        db.execute("DELETE FROM labels")
    db.close()
    with Project.open(tmp_path / "p") as p3:
        assert sum(p3.counts().per_class.values()) == 0


def test_backfill_skips_unreadable_masks(tmp_path):
    imgs, masks, codes = _seg_folder(tmp_path / "src")
    p = Project.create(tmp_path / "p", "segmentation")
    import_segmentation(p, imgs, masks, codes)
    bad = p.images(p.query(name_contains="a.png"))[0]
    p.close()
    p_dir = tmp_path / "p"
    (p_dir / bad.mask).write_bytes(b"not a png")
    db = sqlite3.connect(p_dir / "project.db")
    with db:
        db.execute("DELETE FROM labels")
        db.execute("DELETE FROM meta WHERE key=?", (MASK_LABELS_KEY,))
    db.close()
    with Project.open(p_dir) as p2:
        assert p2.counts().per_class == {"background": 2, "cat": 1, "dog": 2}

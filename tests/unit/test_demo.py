"""The demo project: every task, labelled and split, with images that show what they claim."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PIL import Image

from engine.imaging import file_sha1, load_mask, load_rgb
from engine.project.demo import _HUES, SHAPES, create_demo_project
from engine.project.store import Project, ProjectError


def _near(a: np.ndarray, rgb, tol=90) -> np.ndarray:
    return np.abs(a.astype(int) - np.array(rgb)).sum(-1) < tol


def test_classification_demo_is_labelled_split_and_fast(tmp_path):
    t0 = time.perf_counter()
    p = create_demo_project(tmp_path / "demo", n=300, seed=3, size=64)
    elapsed = time.perf_counter() - t0
    assert elapsed < 15, f"300 demo images took {elapsed:.1f}s"
    c = p.counts()
    assert c.total == 300 and c.unlabeled == 0
    assert set(c.per_class) == set(SHAPES) and min(c.per_class.values()) >= 50
    assert c.per_split == {"train": 240, "valid": 60}
    p.close()
    p = Project.open(tmp_path / "demo")  # saved and reopens
    for r in p.images()[:40]:
        (label,) = r.labels
        assert label in r.name
        a = np.asarray(load_rgb(p.abspath(r.file)))
        assert a.shape == (64, 64, 3) and (r.width, r.height) == (64, 64)
        assert file_sha1(p.abspath(r.file)) == r.sha1
        # the shape's colour family covers a good part of the picture
        assert _near(a, _HUES[label]).mean() > 0.05, r.name


def test_same_seed_same_project(tmp_path):
    a = create_demo_project(tmp_path / "a", n=12, seed=5, size=32)
    b = create_demo_project(tmp_path / "b", n=12, seed=5, size=32)
    c = create_demo_project(tmp_path / "c", n=12, seed=6, size=32)
    sa = [(r.sha1, r.labels, r.split) for r in a.images()]
    assert sa == [(r.sha1, r.labels, r.split) for r in b.images()]
    assert sa != [(r.sha1, r.labels, r.split) for r in c.images()]


def test_multilabel_and_regression(tmp_path):
    m = create_demo_project(tmp_path / "m", "multilabel", n=40, size=48)
    recs = m.images()
    assert all(1 <= len(r.labels) <= 3 for r in recs)
    assert any(len(r.labels) > 1 for r in recs)
    r = create_demo_project(tmp_path / "r", "regression", n=40, size=48)
    assert r.targets == ["count"]
    vals = [rec.values[0] for rec in r.images()]
    assert set(vals) <= {1.0, 2.0, 3.0, 4.0, 5.0} and len(set(vals)) >= 3
    assert r.counts().unlabeled == 0


def test_segmentation_masks_match_shapes(tmp_path):
    p = create_demo_project(tmp_path / "s", "segmentation", n=20, size=48)
    assert p.class_names() == ["background", *SHAPES]
    assert [c.position for c in p.classes()] == list(range(5))
    assert p.counts().unlabeled == 0
    for r in p.images()[:10]:
        mask = load_mask(p.abspath(r.mask))
        img = np.asarray(Image.open(p.abspath(r.file)).convert("RGB"))
        assert mask.shape == (48, 48)
        values = set(np.unique(mask).tolist())
        assert 0 in values and len(values) >= 2 and values <= set(range(5))
        for v in values - {0}:
            inside = img[mask == v]
            assert _near(inside, _HUES[SHAPES[v - 1]]).mean() > 0.8, r.name
            assert SHAPES[v - 1] in r.name


def test_bad_arguments(tmp_path):
    with pytest.raises(ProjectError, match="Unknown task"):
        create_demo_project(tmp_path / "x", "detection")
    create_demo_project(tmp_path / "y", n=2, size=32)
    with pytest.raises(ProjectError, match="already holds"):
        create_demo_project(tmp_path / "y", n=2, size=32)

"""Data health check: leakage and its fix, duplicates, imbalance, sizes, colour, masks, mistakes."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import main
from engine.check.checks import run_check
from engine.check.hashing import CACHE_FILE, load_cache, near_groups
from engine.check.report import apply_fix
from engine.config import TrainConfig
from engine.control import Cancelled, RunControl
from engine.imaging import file_sha1
from engine.project.store import NewImage, Project
from engine.training.evaluation import EvalItem, Evaluation, save_evaluation
from tests.support.projects import make_project


def _blocks(seed: int, size: int = 64, gray: bool = False) -> np.ndarray:
    """A distinctive picture: random 8x8 blocks blown up (its dHash is stable under resizing)."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (8, 8, 1 if gray else 3), dtype=np.uint8)
    a = np.repeat(np.repeat(a, size // 8, 0), size // 8, 1)
    return np.repeat(a, 3, 2) if gray else a


def _add(project, name, arr, split, labels=(), fmt="PNG", mask=None):
    rel = f"images/{name}.{fmt.lower()}"
    Image.fromarray(arr).save(project.path / rel, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    h, w = arr.shape[:2]
    sha1 = file_sha1(project.path / rel)
    item = NewImage(file=rel, name=f"{name}.{fmt.lower()}", source="t", sha1=sha1, width=w,
                    height=h, labels=list(labels), split=split, mask=mask)  # fmt: skip
    return project.add_images([item])[0]


def _project(tmp_path, n_per_class=(12, 12), classes=("a", "b")) -> Project:
    p = Project.create(tmp_path / "p", "classification")
    p.ensure_classes(classes)
    k = 0
    for c, n in zip(classes, n_per_class, strict=True):
        for i in range(n):
            _add(p, f"{c}{i}", _blocks(k), "valid" if i % 4 == 3 else "train", [c])
            k += 1
    return p


def _kind(rep, kind):
    found = [f for f in rep.findings if f.kind == kind]
    return found[0] if found else None


def test_leakage_found_and_fixed_by_moving_to_one_split(tmp_path):
    p = _project(tmp_path)
    src = p.images(p.query(split="train"))[0]
    # a near copy: resized and re-encoded as JPEG, put in the validation split
    copy = np.asarray(Image.fromarray(_blocks(0)).resize((56, 56), Image.BILINEAR))
    cid = _add(p, "copy", copy, "valid", src.labels, fmt="JPEG")
    rep = run_check(p, image_size=32)
    leak = _kind(rep, "leakage")
    assert leak is not None and leak.severity == "high"
    assert [sorted(g) for g in leak.groups] == [sorted([src.id, cid])]
    assert _kind(rep, "duplicates").count == 2  # no other image matches anything
    apply_fix(p, leak.fix)
    assert p.image(cid).split == p.image(src.id).split == "train"
    rep2 = run_check(p, image_size=32)
    assert _kind(rep2, "leakage") is None and _kind(rep2, "duplicates") is not None
    p.close()


def test_conflicting_labels_of_duplicates(tmp_path):
    p = _project(tmp_path)
    cid = _add(p, "dup", _blocks(1), "train", ["b"])  # same picture as a1, other class
    rep = run_check(p, image_size=32)
    f = _kind(rep, "conflicting_labels")
    assert f is not None and cid in f.image_ids and "b" in f.notes[cid]
    p.close()


def test_imbalance_offers_weighted_loss_that_training_reads(tmp_path):
    p = _project(tmp_path, n_per_class=(20, 4))
    rep = run_check(p, image_size=32)
    imb = _kind(rep, "imbalance")
    assert imb is not None and "5.0x" in imb.title
    few = _kind(rep, "too_few_to_validate")
    assert few is not None and "b (1)" in few.detail and "a (" not in few.detail
    apply_fix(p, imb.fix)
    assert TrainConfig.from_dict(p.load_settings()).balance == "weighted_loss"
    assert _kind(run_check(_project(tmp_path / "even"), image_size=32), "imbalance") is None
    p.close()


def test_small_wide_gray_unlabeled(tmp_path):
    p = _project(tmp_path)
    small = _add(p, "small", _blocks(90, size=16), "train", ["a"])
    wide = _add(p, "wide", np.zeros((20, 100, 3), np.uint8) + 80, "train", ["a"])
    gray = _add(p, "gray", _blocks(91, gray=True), "train", ["b"])
    unl = _add(p, "unl", _blocks(92), "train")
    rep = run_check(p, image_size=64)
    assert _kind(rep, "small_images").image_ids == [small, wide]  # shorter sides 16, 20 < 32
    assert _kind(rep, "aspect_ratio").image_ids == [wide]
    assert gray in _kind(rep, "gray_color_mix").image_ids
    assert _kind(rep, "unlabeled").image_ids == [unl]
    assert _kind(rep, "leakage") is None and _kind(rep, "duplicates") is None
    p.close()


def test_single_class_masks(tmp_path):
    p = make_project(tmp_path / "s", "segmentation", n=8)
    mrel = "masks/blank.png"
    Image.fromarray(np.zeros((32, 32), np.uint8)).save(p.path / mrel)
    iid = _add(p, "blank", _blocks(5, size=32), "train")
    p.set_mask(iid, mrel)  # records the classes present: background only
    rep = run_check(p, image_size=32)
    f = _kind(rep, "single_class_masks")
    assert f is not None and f.image_ids == [iid]
    p.close()


def test_label_mistakes_from_evaluation(tmp_path):
    p = _project(tmp_path)
    recs = p.images(p.query(split="valid"))
    items = [
        EvalItem(recs[0].id, recs[0].name, "a", "b", 3.0, False, [0.05, 0.95]),  # confident
        EvalItem(recs[1].id, recs[1].name, "a", "b", 0.8, False, [0.45, 0.55]),  # unsure
        EvalItem(recs[2].id, recs[2].name, recs[2].labels[0], recs[2].labels[0], 0.1, True,
                 [0.9, 0.1]),
    ]  # fmt: skip
    ev = Evaluation("classification", ["a", "b"], items, None, {}, {})
    save_evaluation(p.path / "models", ev)
    f = _kind(run_check(p, image_size=32), "label_mistakes")
    assert f is not None and f.image_ids == [recs[0].id]
    assert "model says b (95%)" in f.notes[recs[0].id]
    p.close()


def test_multilabel_label_mistakes_name_the_disputed_labels(tmp_path):
    p = _project(tmp_path)
    recs = p.images(p.query(split="valid"))
    a = [recs[i].labels for i in range(3)]
    items = [  # image 0: the model is sure "b" is there too; image 1: unsure; image 2: right
        EvalItem(recs[0].id, recs[0].name, list(a[0]), ["a", "b"], 2.0, False, [0.97, 0.93]),
        EvalItem(recs[1].id, recs[1].name, list(a[1]), ["a", "b"], 0.9, False, [0.6, 0.6]),
        EvalItem(recs[2].id, recs[2].name, list(a[2]), list(a[2]), 0.1, True, [0.9, 0.1]),
    ]  # fmt: skip
    p.set_labels([recs[0].id], ["a"])
    items[0].target = ["a"]
    save_evaluation(p.path / "models", Evaluation("multilabel", ["a", "b"], items, None, {}, {}))
    f = _kind(run_check(p, image_size=32), "label_mistakes")
    assert f is not None and f.image_ids == [recs[0].id]
    assert f.notes[recs[0].id] == "labelled a, model says b (93%)"
    p.close()


def test_cancel_and_empty_project(tmp_path):
    p = _project(tmp_path)
    c = RunControl()
    c.cancel()
    with pytest.raises(Cancelled):
        run_check(p, control=c)
    p.close()
    e = Project.create(tmp_path / "e", "classification")
    assert [f.kind for f in run_check(e).findings] == ["empty"]
    e.close()


def test_hash_cache_is_reused(tmp_path):
    p = _project(tmp_path, n_per_class=(3, 3))
    run_check(p, image_size=32)
    assert (p.path / CACHE_FILE).is_file() and len(load_cache(p.path)) == 6
    calls = []
    run_check(p, image_size=32, on_progress=lambda d, t, s: calls.append((d, t, s)))
    assert all(t == 0 for _d, t, s in calls if s == "Hashing images")  # nothing left to decode
    p.close()


def test_near_groups_finds_planted_pairs_only():
    rng = np.random.default_rng(0)
    h = rng.integers(0, 2**63, 20000, dtype=np.uint64)
    h[1] = h[0] ^ np.uint64(0b1011)  # 3 bits from h[0]: near
    h[3] = h[2] ^ np.uint64(0x3FF)  # 10 bits from h[2]: not near
    h[5] = h[4]  # identical
    g = near_groups(h, 4)
    assert g[0] == g[1] and g[2] != g[3] and g[4] == g[5]
    assert len(np.unique(g)) == 20000 - 2


def test_cli_check_json_and_fix(tmp_path, capsys):
    p = _project(tmp_path)
    src = p.images(p.query(split="train"))[0]
    _add(p, "copy", _blocks(0), "valid", src.labels, fmt="JPEG")
    p.close()
    rc = main.main(["check", str(tmp_path / "p"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 1 and out["n_images"] == 25
    assert out["findings"][0]["kind"] == "leakage" and out["findings"][0]["count"] == 2
    rc = main.main(["check", str(tmp_path / "p"), "--fix", "leakage"])
    text = capsys.readouterr().out
    assert rc == 0 and "Fixed: Moved 1 image(s)" in text
    rc = main.main(["check", str(tmp_path / "nope")])
    assert rc == 1 and "not a Topdown project" in capsys.readouterr().err


def _says_b(bundle):
    """A model sure of class b whatever the image: its head ignores the input."""
    import torch

    head = [m for m in bundle.model.modules() if getattr(m, "bias", None) is not None][-1]
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.tensor([-5.0, 5.0]))


def test_training_labels_checked_with_the_model_on_request(tmp_path, capsys):
    """The training images labelled a are flagged (the model is sure of b), the ones labelled b
    and the validation images are not; only on request, and without a model it says so."""
    from tests.support.weights import save_tiny_model

    p = _project(tmp_path)
    assert _kind(run_check(p, image_size=32), "training_labels") is None  # not asked for
    none = _kind(run_check(p, image_size=32, training_labels=True), "training_labels")
    assert none is not None and none.severity == "info" and "no model" in none.title
    save_tiny_model(p.path / "models" / "best.pt", "classification", class_names=("a", "b"),
                    tweak=_says_b)  # fmt: skip
    f = _kind(run_check(p, image_size=32, training_labels=True), "training_labels")
    train_a = {r.id for r in p.images(p.query(split="train")) if r.labels == ("a",)}
    assert f is not None and f.severity == "medium" and set(f.image_ids) == train_a
    assert all("labelled a, model says b" in f.notes[i] for i in f.image_ids)
    p.close()
    assert main.main(["check", str(tmp_path / "p"), "--training-labels", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert any(x["kind"] == "training_labels" for x in out["findings"])

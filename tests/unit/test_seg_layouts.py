"""Segmentation datasets as users download them: one detection recognises each layout, a drop
(import_paths) and `main.py new` import it as images with masks (never masks as photos), and
the import report says what was found. Every image and mask is generated here, tiny."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cli.main import run
from engine.imaging import file_sha1, load_mask
from engine.imports.api import detect_segmentation, import_folder, import_paths
from engine.project.store import Project, ProjectError
from tests.support.images import write_image, write_seg_folder


def camvid(root: Path) -> dict:
    write_seg_folder(root / "train", root / "trainannot", 4, extra=3, seed=1)
    write_seg_folder(root / "val", root / "valannot", 2, extra=3, seed=2)
    write_seg_folder(root / "test", root / "testannot", 2, extra=3, seed=3)
    (root / "codes.txt").write_text("Sky\nRoad\nCar\nVoid\n", encoding="utf-8")
    return {
        "pairs": {"train+trainannot (train)", "val+valannot (valid)", "test+testannot (test)"},
        "splits": {"train": 4, "valid": 2, "test": 2},
        "classes": ["Sky", "Road", "Car"],
        "image_dirs": {"train", "val", "test"},
    }


def images_masks(root: Path) -> dict:
    write_seg_folder(root / "images", root / "masks", 5, mask_suffix="_mask", seed=4)
    return {
        "pairs": {"images+masks"},
        "classes": ["class_0", "class_1", "class_2"],
        "image_dirs": {"images"},
    }


def image_label_isbi(root: Path) -> dict:
    write_seg_folder(root / "image", root / "label", 4, values=(0, 255), seed=5)
    return {"pairs": {"image+label"}, "classes": ["class_0", "class_1"], "image_dirs": {"image"}}


def siblings_labels(root: Path) -> dict:
    write_seg_folder(root / "photos", root / "photos_labels", 3, seed=6)
    (root / "classes.txt").write_text("ground\nbush\ntree\n", encoding="utf-8")
    return {
        "pairs": {"photos+photos_labels"},
        "classes": ["ground", "bush", "tree"],
        "image_dirs": {"photos"},
    }


def siblings_masks(root: Path) -> dict:
    write_seg_folder(root / "train_images", root / "train_masks", 3, seed=7)
    write_seg_folder(root / "val_images", root / "val_masks", 2, seed=8)
    return {
        "pairs": {"train_images+train_masks (train)", "val_images+val_masks (valid)"},
        "splits": {"train": 3, "valid": 2},
        "classes": ["class_0", "class_1", "class_2"],
        "image_dirs": {"train_images", "val_images"},
    }


def split_folders_around(root: Path) -> dict:
    write_seg_folder(root / "train" / "images", root / "train" / "masks", 3, seed=9)
    write_seg_folder(root / "val" / "images", root / "val" / "masks", 2, seed=10)
    (root / "codes.txt").write_text("background\nleaf\nstem\n", encoding="utf-8")
    return {
        "pairs": {"images+masks (train)", "images+masks (valid)"},
        "splits": {"train": 3, "valid": 2},
        "classes": ["background", "leaf", "stem"],
        "image_dirs": {"images"},
    }


LAYOUTS = [camvid, images_masks, image_label_isbi, siblings_labels, siblings_masks]
LAYOUTS.append(split_folders_around)


def _images_in(root: Path, dirs: set[str]) -> int:
    return sum(1 for f in root.rglob("*.png") if f.parent.name in dirs)


@pytest.mark.parametrize("make", LAYOUTS, ids=lambda f: f.__name__)
def test_layout_detected_and_dropped_as_images_with_masks(tmp_path, make):
    root = tmp_path / "dataset"
    want = make(root)
    n = _images_in(root, want["image_dirs"])
    before = {f: file_sha1(f) for f in root.rglob("*") if f.is_file()}

    layout = detect_segmentation([root])
    assert layout is not None and {p.describe() for p in layout.pairs} == want["pairs"]

    p = Project.create(tmp_path / "proj", "segmentation")
    rep = import_paths(p, [root])
    assert rep.task == "segmentation" and rep.classes == want["classes"]
    assert len(rep.added) == rep.pairs == n == p.count()  # the masks are not photos
    assert not rep.skipped and not rep.unmatched and not rep.duplicates
    assert sum(rep.splits.values()) == n and rep.splits.get("valid", 0) >= 1
    if "splits" in want:
        assert rep.splits == want["splits"]
    assert all(pair in rep.layout for pair in want["pairs"])
    for r in p.images():
        assert Path(r.source).parent.name in want["image_dirs"] and r.mask is not None
        values = set(np.unique(load_mask(p.abspath(r.mask))).tolist())
        assert values <= set(range(len(want["classes"]))) | {255}
        assert len(r.labels) >= 1  # the classes in its mask
    assert {f: file_sha1(f) for f in before} == before  # the user's files are untouched


@pytest.mark.parametrize("make", LAYOUTS, ids=lambda f: f.__name__)
def test_cli_new_recognises_the_layout(tmp_path, make, capsys):
    root = tmp_path / "dataset"
    want = make(root)
    assert run(["new", str(tmp_path / "p"), "--from", str(root)]) == 0
    out = capsys.readouterr().out
    assert "segmentation project" in out
    assert "Detected segmentation dataset: image/annotation folders" in out
    with Project.open(tmp_path / "p") as p:
        assert p.task == "segmentation" and p.class_names() == want["classes"]
        assert p.count() == _images_in(root, want["image_dirs"])
        assert p.counts().unlabeled == 0


def test_void_class_becomes_ignore_and_the_report_says_so(tmp_path):
    root = tmp_path / "camvid"
    camvid(root)
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_folder(p, root)
    assert any("'Void'" in n and "ignore" in n for n in rep.notes)
    rec = next(r for r in p.images() if r.name == "im1_1.png")
    m = load_mask(p.abspath(rec.mask))
    assert (m[0] == 255).all()  # the void row: left out of loss and metrics
    assert m[5, 6] == 2 and m[11, 0] == 0  # Car and Sky keep their values
    assert rec.labels == ("Sky", "Car")


def test_void_in_the_middle_shifts_later_values_or_is_kept_on_request(tmp_path):
    ds = tmp_path / "ds"
    write_seg_folder(ds / "images", ds / "masks", 2, values=(0, 2), extra=1)  # road, row 0: void
    (ds / "codes.txt").write_text("sky\nunlabelled\nroad\n", encoding="utf-8")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_folder(p, ds)
    assert p.class_names() == ["sky", "road"]
    m = load_mask(p.abspath(p.images()[0].mask))
    assert (m[0] == 255).all() and m[5, 6] == 1 and m[11, 0] == 0
    assert "'unlabelled' in codes.txt (mask value 1)" in rep.notes[0]

    q = Project.create(tmp_path / "q", "segmentation")
    rep = import_folder(q, ds, ignore_void=False)
    assert q.class_names() == ["sky", "unlabelled", "road"] and not rep.notes
    assert (load_mask(q.abspath(q.images()[0].mask))[0] == 1).all()


def test_isbi_masks_0_255_become_classes_0_1(tmp_path):
    image_label_isbi(tmp_path / "isbi")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_paths(p, [tmp_path / "isbi"])
    assert any("0 and 255" in n for n in rep.notes)
    m = load_mask(p.abspath(p.images()[0].mask))
    assert set(np.unique(m).tolist()) == {0, 1}
    assert p.counts().per_class == {"class_0": 4, "class_1": 4}


def test_unmatched_images_and_masks_are_named(tmp_path):
    root = tmp_path / "ds"
    write_seg_folder(root / "images", root / "masks", 3)
    write_image(root / "images" / "lonely.png", 16, 12, seed=77)
    Image.fromarray(np.zeros((12, 16), np.uint8)).save(root / "masks" / "ghost.png")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_paths(p, [root])
    unmatched = dict(rep.unmatched)
    assert "no mask" in unmatched[str(root / "images" / "lonely.png")]
    assert "no image" in unmatched[str(root / "masks" / "ghost.png")]
    assert p.count() == 4 and p.counts().unlabeled == 1 and rep.pairs == 3
    assert "2 unmatched" in rep.summary()


def test_dropped_sibling_folders_find_codes_in_their_parent(tmp_path):
    root = tmp_path / "camvid"
    camvid(root)
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_paths(p, [root / "train", root / "trainannot"])
    assert p.class_names() == ["Sky", "Road", "Car"] and rep.pairs == p.count() == 4
    assert "class names from codes.txt" in rep.layout


def test_bad_masks_are_skipped_with_the_file_named(tmp_path):
    root = tmp_path / "ds"
    write_seg_folder(root / "train", root / "trainannot", 3, seed=1)
    write_seg_folder(root / "val", root / "valannot", 1, extra=9, seed=2)  # 9: not a class
    (root / "codes.txt").write_text("a\nb\nc\n", encoding="utf-8")
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(root / "trainannot" / "im1_0.png")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_paths(p, [root])
    reasons = dict(rep.skipped)
    assert "im2_0.png has values 9 outside the class list" in reasons[str(root / "val/im2_0.png")]
    assert "is 5x5 pixels but the image is 16x12" in reasons[str(root / "train/im1_0.png")]
    assert p.count() == 2 and rep.pairs == 2


def test_a_segmentation_dataset_into_a_classification_project_is_refused(tmp_path):
    root = tmp_path / "camvid"
    camvid(root)
    p = Project.create(tmp_path / "p", "classification")
    with pytest.raises(ProjectError, match=r"camvid holds segmentation images and masks"):
        import_paths(p, [root])
    assert p.count() == 0 and p.class_names() == []
    rc = run(["new", str(tmp_path / "c"), "--task", "classification", "--from", str(root)])
    assert rc == 1


def test_class_folders_are_not_taken_for_a_segmentation_layout(tmp_path):
    from tests.support.images import write_class_folders

    write_class_folders(tmp_path / "pets", ("cat", "cat_masks"), per_class=2)
    assert detect_segmentation([tmp_path / "pets"]) is None  # different file names: no pairs
    assert run(["new", str(tmp_path / "p"), "--from", str(tmp_path / "pets")]) == 0
    with Project.open(tmp_path / "p") as p:
        assert p.task == "classification" and p.class_names() == ["cat", "cat_masks"]


def test_fastai_camvid_valid_txt_names_the_validation_images(tmp_path):
    root = tmp_path / "camvid"
    write_seg_folder(root / "images", root / "labels", 5, mask_suffix="_P", extra=3, seed=1)
    (root / "codes.txt").write_text("Sky\nRoad\nCar\nVoid\n", encoding="utf-8")
    (root / "valid.txt").write_text("im1_0.png\nim1_3.png\n", encoding="utf-8")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_paths(p, [root])
    assert "validation images listed in valid.txt" in rep.layout
    assert rep.splits == {"train": 3, "valid": 2} and rep.pairs == 5
    assert {r.name for r in p.images(p.query(split="valid"))} == {"im1_0.png", "im1_3.png"}

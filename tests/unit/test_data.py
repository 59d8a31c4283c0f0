"""Datasets: which images are used, augmentation of image and mask together, the RAM cache,
bad files turned into skip markers, batch rotation."""

from __future__ import annotations

import numpy as np
import torch

import engine.training.data as data
from engine.training.augment import BatchPrep, rotate_batch
from engine.training.data import ImageDataset, collate, make_loader, prepare_data
from tests.support.projects import make_project, tiny_config


def test_prepare_data_uses_train_and_valid_only(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    test_id = project.query(split="train")[0]
    project.set_split([test_id], "test")
    spec = prepare_data(project, tiny_config())
    ids = {it.image_id for it in spec.train + spec.valid}
    assert test_id not in ids and len(ids) == 15
    assert spec.class_names == project.class_names() and spec.n_outputs == 2
    assert all(isinstance(it.target, int) for it in spec.train)


def test_regression_targets_normalised_with_train_statistics(tmp_path):
    project = make_project(tmp_path / "p", "regression", n=16)
    spec = prepare_data(project, tiny_config())
    vals = np.array([project.image(it.image_id).values[0] for it in spec.train])
    assert abs(spec.target_mean[0] - vals.mean()) < 1e-3
    ds = ImageDataset(spec, "train", 32, tiny_config(), train=True)
    ys = torch.stack([ds[i][1] for i in range(len(ds))]).numpy()[:, 0]
    assert abs(ys.mean()) < 1e-4 and abs(ys.std() - 1) < 1e-3


def test_augmentation_keeps_masks_aligned_with_images(tmp_path):
    project = make_project(tmp_path / "p", "segmentation", n=12)
    cfg = tiny_config(rotate=True)
    spec = prepare_data(project, cfg)
    ds = ImageDataset(spec, "train", 32, cfg, train=True)
    img, mask, idx = ds[0]
    assert img.dtype == torch.uint8 and img.shape == (3, 40, 40) and mask.shape == (40, 40)
    x, y, _, _ = collate([ds[i] for i in range(len(ds))])
    prep = BatchPrep(torch.device("cpu"), (0, 0, 0), (1 / 255,) * 3, False, size=32,
                     crop=True, flip=True, rotate=True)  # fmt: skip
    torch.manual_seed(1)
    out, m = prep(x, y, train=True)
    assert out.shape == (len(ds), 3, 32, 32) and m.shape == (len(ds), 32, 32)
    assert set(m.unique().tolist()) <= {0, 1, 255}
    bright = out[:, 0] > 125  # the square is bright (220), the background dark (30)
    labeled = m != 255
    agree = (bright == (m == 1))[labeled].float().mean()
    assert agree > 0.95  # only edge pixels may differ after interpolation
    assert not torch.equal(out, prep(x, y, train=True)[0])  # random per call


def test_valid_is_resized_only_and_deterministic(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16, size=40)
    spec = prepare_data(project, tiny_config())
    ds = ImageDataset(spec, "valid", 32, tiny_config(), train=False)
    a, b = ds[0][0], ds[0][0]
    assert a.shape == (3, 32, 32) and torch.equal(a, b)


def test_cache_skips_decoding_after_first_epoch(tmp_path, monkeypatch):
    project = make_project(tmp_path / "p", "classification", n=16)
    spec = prepare_data(project, tiny_config())
    calls = []
    real = data.load_rgb
    monkeypatch.setattr(data, "load_rgb", lambda p: calls.append(p) or real(p))
    ds = ImageDataset(spec, "train", 32, tiny_config(), train=True)
    for _ in range(3):
        for i in range(len(ds)):
            ds[i]
    assert len(calls) == len(ds)  # decoded once each
    tiny = ImageDataset(spec, "train", 32, tiny_config(cache_mb=0), train=True)
    calls.clear()
    tiny[0], tiny[0]
    assert len(calls) == 2  # over budget: nothing kept


def test_bad_file_becomes_a_skip_marker_and_collate_drops_it(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=16)
    spec = prepare_data(project, tiny_config())
    bad = spec.train[1].path
    open(bad, "wb").write(b"not an image at all")
    ds = ImageDataset(spec, "train", 32, tiny_config(), train=True)
    marker = ds[1]
    assert marker[0] == "skip" and marker[1] == bad and "not an image" in marker[2]
    x, y, idx, skipped = collate([ds[0], marker, ds[2]])
    assert x.shape[0] == 2 and idx.tolist() == [0, 2] and skipped == [(bad, marker[2])]
    loader = make_loader(ds, 4, True, tiny_config(), pin=False)
    seen = sum(b[0].shape[0] for b in loader if b[0] is not None)
    assert len(ds) % 4 == 0 and seen == len(ds) - 1  # every good image, once


def test_rotation_moves_masks_with_images_and_fills_corners_with_ignore():
    torch.manual_seed(0)
    x = torch.zeros(4, 3, 32, 32)
    x[:, :, 8:24, 8:24] = 1.0
    mask = (x[:, 0] > 0.5).long()
    rx, rm = rotate_batch(x, mask, max_deg=10, p=1.0)
    assert rm.shape == mask.shape and rx.shape == x.shape
    assert set(rm.unique().tolist()) <= {0, 1, 255}
    agree = ((rx[:, 0] > 0.5).long() == rm)[rm != 255].float().mean()
    assert agree > 0.97 and not torch.equal(rx, x)


def test_batch_prep_normalises_on_the_device():
    prep = BatchPrep(torch.device("cpu"), (0.5, 0.5, 0.5), (0.25, 0.25, 0.25), True)
    x = torch.full((2, 3, 8, 8), 255, dtype=torch.uint8)
    out, y = prep(x, torch.tensor([0, 1]), train=False)
    assert out.dtype == torch.float32 and torch.allclose(out, torch.full_like(out, 2.0))
    assert out.is_contiguous(memory_format=torch.channels_last)

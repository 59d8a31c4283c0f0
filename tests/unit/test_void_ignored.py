"""A void class imported as 'ignore' is really left out: its pixels reach training as 255 (also
after the augmentation warp), the loss does not depend on them, and the metrics do not count
them. (The training code already treats 255 as ignore_index; this checks the whole path.)"""

from __future__ import annotations

import torch

from engine.config import TrainConfig
from engine.imports.api import import_folder
from engine.project.store import IGNORE_INDEX, Project
from engine.training.augment import BatchPrep
from engine.training.data import ImageDataset, collate, prepare_data
from engine.training.metrics import Metrics, make_loss, per_item_loss
from tests.support.images import write_seg_folder


def _project(tmp_path):
    src = tmp_path / "ds"
    write_seg_folder(src / "train", src / "trainannot", 4, extra=3, seed=1)
    write_seg_folder(src / "val", src / "valannot", 2, extra=3, seed=2)
    (src / "codes.txt").write_text("sky\nroad\ncar\nvoid\n", encoding="utf-8")
    p = Project.create(tmp_path / "p", "segmentation")
    import_folder(p, src)
    return p


def test_void_pixels_reach_training_as_ignore_and_do_not_count(tmp_path):
    p = _project(tmp_path)
    cfg = TrainConfig(arch="lraspp_mobilenet_v3_large", image_size=24, cache_mb=8)
    spec = prepare_data(p, cfg)
    assert spec.n_outputs == 3  # sky, road, car: no output for void
    ds = ImageDataset(spec, "train", 24, cfg, train=True)
    x, y, _, skipped = collate([ds[i] for i in range(len(ds))])
    assert not skipped and (y[:, 0] == IGNORE_INDEX).all() and (y[:, -1] != IGNORE_INDEX).all()
    prep = BatchPrep(torch.device("cpu"), [0.5] * 3, [0.25] * 3, False, size=24, crop=True)
    torch.manual_seed(0)
    _, yt = prep(x, y, train=True)  # crop + flip + warp, as in training
    assert (yt == IGNORE_INDEX).any() and set(yt.unique().tolist()) <= {0, 1, 2, IGNORE_INDEX}

    # logits right on every labelled pixel, wrong (class 0, confidently) on void pixels
    keep = yt != IGNORE_INDEX
    right = torch.nn.functional.one_hot(yt.clamp(max=2), 3).permute(0, 3, 1, 2).float() * 8
    wrong = right.clone()
    wrong[:, 0][~keep] = 50.0
    wrong[:, 1:][(~keep).unsqueeze(1).expand(-1, 2, -1, -1)] = -50.0
    loss = make_loss("segmentation")
    assert torch.isclose(loss(right, yt), loss(wrong, yt))
    assert torch.allclose(
        per_item_loss("segmentation", right, yt), per_item_loss("segmentation", wrong, yt)
    )
    m = Metrics("segmentation", spec.class_names)
    m.update(wrong, yt, loss(wrong, yt))
    res = m.compute()
    assert res["pixel_accuracy"] == 1.0 and res["miou"] == 1.0

    # the same logits with the void pixels counted as sky would score worse: the test can fail
    counted = yt.clone()
    counted[~keep] = 1
    m2 = Metrics("segmentation", spec.class_names)
    m2.update(wrong, counted, 0.0)
    assert m2.compute()["pixel_accuracy"] < 1.0

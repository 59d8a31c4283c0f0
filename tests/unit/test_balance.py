"""TrainConfig.balance: class-weighted loss and balanced sampler, and training honours them."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F  # noqa: N812

from engine.config import TrainConfig
from engine.training import balance
from engine.training.data import Item
from engine.training.train import train
from tests.support.projects import make_project, tiny_config


def _spec(task="classification", targets=(0,) * 8 + (1,) * 2):
    items = [Item(i, f"/x/{i}.png", t) for i, t in enumerate(targets)]
    return SimpleNamespace(task=task, class_names=["big", "small"], train=items)


def test_weighted_loss_counts_each_class_the_same():
    spec = _spec()
    loss = balance.make_loss(spec, TrainConfig(balance="weighted_loss"))
    out = torch.randn(4, 2)
    y = torch.tensor([0, 1, 0, 1])
    w = torch.tensor([10 / (2 * 8), 10 / (2 * 2)])  # n / (k * n_class)
    assert loss(out, y).item() == pytest.approx(F.cross_entropy(out, y, weight=w).item())
    plain = balance.make_loss(spec, TrainConfig())
    assert plain(out, y).item() == pytest.approx(F.cross_entropy(out, y).item())


def test_multilabel_pos_weight_and_bad_setting():
    targets = [np.array([1, 0], np.float32)] * 3 + [np.array([1, 1], np.float32)]
    spec = _spec("multilabel", targets)
    loss = balance.make_loss(spec, TrainConfig(balance="weighted_loss"))
    out, y = torch.randn(4, 2), torch.stack([torch.from_numpy(t) for t in targets])
    pw = torch.tensor([1e-3, 3.0])  # label 0: no negatives (floor); label 1: 3 neg / 1 pos
    expected = F.binary_cross_entropy_with_logits(out, y, pos_weight=pw)
    assert loss(out, y).item() == pytest.approx(expected.item(), rel=1e-5)
    with pytest.raises(ValueError, match="balance must be one of"):
        balance.make_loss(spec, TrainConfig(balance="magic"))


def test_sampler_draws_classes_evenly():
    spec = _spec(targets=(0,) * 90 + (1,) * 10)
    sampler = balance.train_sampler(spec, TrainConfig(balance="sampler"))
    assert balance.train_sampler(spec, TrainConfig()) is None
    drawn = Counter(int(spec.train[i].target) for _ in range(20) for i in sampler)
    assert 0.4 < drawn[1] / (drawn[0] + drawn[1]) < 0.6  # unbalanced 0.1 without it


@pytest.mark.parametrize("mode", ["weighted_loss", "sampler"])
def test_training_runs_with_balance(tmp_path, mode):
    project = make_project(tmp_path / "p", n=24)
    end = train(project, tiny_config(arch="mobilenet_v3_small", balance=mode, epochs=1))
    assert end.epochs_done == 1 and np.isfinite(end.history[-1]["train_loss"])
    project.close()

"""The training recipe: frozen epochs only for a pretrained body and inside the total, one rate
for every group from scratch, discriminative rates when fine-tuning; old settings files."""

from __future__ import annotations

import pytest

from engine.config import DEFAULT_LR, TrainConfig
from engine.training import recipe


def test_frozen_epochs_count_inside_the_total_and_only_when_pretrained():
    assert recipe.split_epochs(5, 1, pretrained=True) == (1, 5)
    assert recipe.split_epochs(5, 1, pretrained=False) == (0, 5)
    assert recipe.split_epochs(2, 7, pretrained=True) == (2, 2)  # never more than the total
    assert recipe.split_epochs(0, 0, pretrained=False) == (0, 1)


def test_group_rates_from_scratch_are_one_rate_and_pretrained_discriminative():
    assert recipe.group_lrs(3e-3, 3, frozen=False, pretrained=False) == [3e-3] * 3
    lrs = recipe.group_lrs(1e-3, 3, frozen=False, pretrained=True)
    m = recipe.LR_MULT  # 1 since measured on real weights (benchmarks/transfer_real.py)
    assert lrs == pytest.approx([1e-3 / m, 1e-3 / m**0.5, 1e-3])
    assert recipe.group_lrs(1e-3, 3, frozen=True, pretrained=True) == [1e-3]


def test_fine_tune_halves_the_rate_after_a_frozen_phase():
    assert recipe.phase_lr(2e-3, frozen=True, freeze_epochs=1) == 2e-3
    assert recipe.phase_lr(2e-3, frozen=False, freeze_epochs=1) == 1e-3
    assert recipe.phase_lr(2e-3, frozen=False, freeze_epochs=0) == 2e-3


def test_schedules_follow_fastai():
    assert recipe.schedule(frozen=True, pretrained=True).pct_start == 0.99
    assert recipe.schedule(frozen=False, pretrained=True).div_factor == 5.0
    assert recipe.schedule(frozen=False, pretrained=False).div_factor == 25.0
    assert recipe.finder_frozen(1, pretrained=True) and not recipe.finder_frozen(1, False)


def test_every_schedule_builds_for_short_runs():
    import torch

    for steps in range(1, 12):
        for frozen, pretrained in ((True, True), (False, True), (False, False)):
            shape = recipe.schedule(frozen=frozen, pretrained=pretrained)
            opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
            sched = torch.optim.lr_scheduler.OneCycleLR(
                opt, max_lr=1e-3, total_steps=steps, pct_start=shape.pct_start,
                div_factor=shape.div_factor, final_div_factor=shape.final_div_factor,
            )  # fmt: skip
            for _ in range(steps):
                opt.step()
                sched.step()


def test_defaults_are_a_fixed_rate_and_a_total_of_epochs():
    cfg = TrainConfig()
    assert cfg.lr == DEFAULT_LR == 2e-3 and cfg.epochs == 5 and cfg.freeze_epochs == 1
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_old_settings_keep_their_length_and_drop_the_auto_rate():
    old = {"arch": "resnet18", "epochs": 4, "freeze_epochs": 1, "lr": None, "extra": 1}
    cfg = TrainConfig.from_dict(old)
    assert (cfg.epochs, cfg.freeze_epochs, cfg.lr) == (5, 1, DEFAULT_LR)
    kept = TrainConfig.from_dict({"epochs": 3, "freeze_epochs": 0, "lr": 0.01})
    assert (kept.epochs, kept.lr) == (3, 0.01)
    new = TrainConfig.from_dict({"version": 2, "epochs": 4, "freeze_epochs": 1, "lr": None})
    assert (new.epochs, new.lr) == (4, None)  # a new file's "auto" is a choice: kept


def test_a_wider_spread_gives_the_input_side_lower_rates(monkeypatch):
    monkeypatch.setattr(recipe, "LR_MULT", 100)
    lrs = recipe.group_lrs(1e-3, 3, frozen=False, pretrained=True)
    assert lrs == pytest.approx([1e-5, 1e-4, 1e-3])

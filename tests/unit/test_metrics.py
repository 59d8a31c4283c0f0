"""Metrics against values worked out by hand, and the LR finder's suggestion rule."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.training.metrics import Metrics, confusion_metrics, is_better, make_loss, per_item_loss


def test_classification_accuracy_and_error_rate():
    m = Metrics("classification", ["a", "b", "c"])
    out = torch.tensor([[5.0, 0, 0], [0, 5.0, 0], [0, 5.0, 0], [0, 0, 5.0]])
    y = torch.tensor([0, 1, 2, 2])
    m.update(out, y, loss=0.5)
    r = m.compute()
    assert r["accuracy"] == pytest.approx(0.75) and r["error_rate"] == pytest.approx(0.25)
    assert r["loss"] == pytest.approx(0.5)


def test_multilabel_f1_per_label_and_macro():
    m = Metrics("multilabel", ["cat", "dog"], threshold=0.5)
    # logits: positive = predicted present
    out = torch.tensor([[2.0, -2.0], [2.0, 2.0], [-2.0, 2.0], [-2.0, -2.0]])
    y = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    m.update(out, y, loss=0.1)
    r = m.compute()
    # cat: tp=1 fp=1 fn=1 -> f1 0.5; dog: tp=2 fp=0 fn=0 -> f1 1.0
    assert r["f1/cat"] == pytest.approx(0.5) and r["f1/dog"] == pytest.approx(1.0)
    assert r["f1_macro"] == pytest.approx(0.75) and r["accuracy"] == pytest.approx(6 / 8)


def test_regression_errors_in_real_units():
    m = Metrics("regression", ["age"], target_mean=[50.0], target_std=[10.0])
    out = torch.tensor([[0.0], [1.0]])  # predictions 50 and 60
    y = torch.tensor([[0.5], [0.5]])  # truth 55 and 55
    m.update(out, y, loss=0.25)
    r = m.compute()
    assert r["mae"] == pytest.approx(5.0) and r["rmse"] == pytest.approx(5.0)


def test_segmentation_iou_dice_from_confusion_and_ignore_index():
    out = torch.zeros(1, 2, 2, 2)
    out[0, 1, 0, :] = 5.0  # predicts class 1 on the top row, class 0 below
    y = torch.tensor([[[1, 0], [0, 255]]])
    m = Metrics("segmentation", ["bg", "fg"])
    m.update(out, y, loss=1.0)
    r = m.compute()
    # pixels used: (1,pred1) (0,pred1) (0,pred0); bg: tp1 fp0 fn1 -> iou .5; fg: tp1 fp1 -> .5
    assert r["pixel_accuracy"] == pytest.approx(2 / 3)
    assert r["iou/bg"] == pytest.approx(0.5) and r["iou/fg"] == pytest.approx(0.5)
    assert r["miou"] == pytest.approx(0.5) and r["dice"] == pytest.approx(2 / 3)
    loss = make_loss("segmentation")(out, y)
    assert torch.isfinite(loss)
    assert per_item_loss("segmentation", out, y).shape == (1,)


def test_absent_classes_do_not_drag_miou_down():
    cm = np.array([[10, 0, 0], [0, 5, 0], [0, 0, 0]])
    r = confusion_metrics(cm, ["a", "b", "never"], "segmentation")
    assert r["miou"] == pytest.approx(1.0) and "iou/never" not in r


def test_better_depends_on_direction():
    assert is_better("classification", 0.9, 0.8) and not is_better("classification", 0.7, 0.8)
    assert is_better("regression", 1.0, 2.0) and not is_better("regression", 3.0, 2.0)
    assert not is_better("classification", float("nan"), None)

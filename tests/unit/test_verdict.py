"""The plain-words verdict after training: the main metric against the obvious baseline on the
same validation images, an exploding validation loss flagged, a next step suggested."""

from __future__ import annotations

import numpy as np

from engine.training.evaluation import EvalItem, Evaluation
from engine.training.verdict import baselines, exploding, judge


def _classification(n_ants: int, n_bees: int, right_ants: int, right_bees: int) -> Evaluation:
    cm = np.array([[right_ants, n_ants - right_ants], [n_bees - right_bees, right_bees]])
    items = [EvalItem(i, f"{i}.jpg", "ants", "ants", 0.5, True) for i in range(n_ants + n_bees)]
    acc = (right_ants + right_bees) / (n_ants + n_bees)
    return Evaluation("classification", ["ants", "bees"], items, cm, {}, {"accuracy": acc})


def test_ants_and_bees_from_scratch_are_called_weak_with_the_majority_baseline():
    ev = _classification(70, 83, 40, 63)  # 103 / 153 = 0.673; always "bees": 83 / 153 = 0.54
    history = [
        {"epoch": 1, "train_loss": 0.70, "valid_loss": 0.69, "metrics": {"accuracy": 0.55}},
        {"epoch": 2, "train_loss": 0.66, "valid_loss": 7.16, "metrics": {"accuracy": 0.60}},
        {"epoch": 3, "train_loss": 0.60, "valid_loss": 0.65, "metrics": {"accuracy": 0.673}},
    ]
    v = judge(ev, history=history, config={"weights": "none", "lr": 0.002})
    assert v.level == "weak" and v.weak
    assert v.baseline.how == "always answering “bees”" and round(v.baseline.value, 2) == 0.54
    assert v.headline == (
        "Weak model: accuracy 0.673 on 153 validation images, above the 0.542 of always "
        "answering “bees”."
    )
    text = "\n".join(v.lines())
    assert "Accuracy is the share of validation images it gets right." in text
    assert "exploded: 7.16 at epoch 2" in text
    assert "Lower the learning rate (try 2e-04 instead of 2e-03)" in text
    assert "pretrained weights" in text


def test_a_model_that_always_says_the_majority_class_is_no_better_than_guessing():
    ev = _classification(30, 70, 0, 70)
    v = judge(ev, history=[{"valid_loss": 0.6}] * 6, config={"weights": "imagenet"})
    assert v.level == "no better than guessing"
    assert v.headline.startswith("No better than guessing: accuracy 0.700 on 100 validation")


def test_a_good_model_is_called_good_and_pointed_at_its_mistakes():
    ev = _classification(50, 50, 48, 49)
    v = judge(ev, history=[{"valid_loss": 0.2}] * 5, config={"weights": "imagenet"})
    assert v.level == "good" and not v.warnings
    assert v.headline.startswith("Good model: accuracy 0.970")
    assert v.next_steps == ["Look at the images it gets wrong on Evaluate, then predict new ones."]


def test_regression_against_the_mean_value():
    items = [EvalItem(t, f"{t}.png", [float(t)], [float(t) + 1], 1.0) for t in range(10)]
    ev = Evaluation("regression", [], items, None, {}, {"mae": 1.0}, ["age"])
    (b,) = baselines(ev)
    assert b.how == "always answering the mean value" and b.value == 2.5
    v = judge(ev)
    assert v.level == "fair"  # 1 - 1.0 / 2.5 = 0.6 of the way from the mean to perfect
    assert "mean absolute error 1 on 10 validation images, below the 2.5 of always" in v.headline


def test_segmentation_against_painting_everything_background():
    # CamVid from scratch: pixel accuracy 0.097 while "all road" gives 0.6
    cm = np.array([[50, 550, 0], [300, 47, 0], [3, 0, 50]])
    total = cm.sum()
    metrics = {"miou": 0.12, "pixel_accuracy": float(np.trace(cm) / total)}
    items = [EvalItem(i, f"{i}.png", "m.png", None, 2.0) for i in range(4)]
    ev = Evaluation("segmentation", ["road", "sky", "void"], items, cm, {}, metrics)
    v = judge(ev, history=[{"valid_loss": 2.0}], config={"weights": "none"})
    assert v.weak
    assert "painting every pixel “road”" in v.headline
    assert any(line.startswith("Pixel accuracy 0.147; painting every pixel “road” gives 0.6")
               for line in v.extra)  # fmt: skip


def test_multilabel_against_every_label_on():
    items = [EvalItem(0, "a", ["x"], ["x"], 0.1), EvalItem(1, "b", ["x", "y"], ["x"], 0.1)]
    ev = Evaluation("multilabel", ["x", "y"], items, None, {}, {"f1_macro": 0.8})
    (b,) = baselines(ev)
    assert round(b.value, 3) == round((1 + 2 * 0.5 / 1.5) / 2, 3)


def test_only_a_real_blow_up_counts_as_exploding():
    assert exploding([{"valid_loss": 0.7}, {"valid_loss": 0.9}, {"valid_loss": 0.6}]) == ""
    assert "diverged" in exploding([{"valid_loss": 0.7}, {"valid_loss": float("nan")}])
    one = exploding([{"valid_loss": 7.2}], "classification", 2)  # one epoch, wildly wrong
    assert "times that of an even guess" in one


def test_per_class_precision_recall_f1_from_the_confusion_matrix():
    from engine.training.class_scores import class_scores

    # 10 ants: 8 right, 2 called bees; 5 bees: 4 right, 1 called ants
    s = class_scores(np.array([[8, 2], [1, 4]]), ["ants", "bees"])
    assert s["ants"] == {"n": 10, "precision": 8 / 9, "recall": 0.8, "f1": 16 / 19}
    assert s["bees"]["precision"] == 4 / 6 and s["bees"]["recall"] == 0.8
    assert class_scores(np.zeros((1, 1)), ["x"])["x"]["f1"] is None

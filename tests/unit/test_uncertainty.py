"""Uncertainty ranking: known scores per task, and a project's unlabeled images ranked."""

from __future__ import annotations

import numpy as np
import pytest

from engine.control import Cancelled, RunControl
from engine.interpret.uncertainty import rank_unlabeled, scores
from engine.predict.predictor import Predictor
from tests.support.projects import make_project
from tests.support.weights import save_tiny_model


def test_scores_per_task():
    p = np.array([[0.98, 0.01, 0.01], [0.4, 0.35, 0.25], [1 / 3, 1 / 3, 1 / 3]])
    m = scores(p, "classification", "margin")
    assert m == pytest.approx([0.03, 0.95, 1.0])
    e = scores(p, "classification", "entropy")
    assert e[0] < e[1] < e[2] and e[2] == pytest.approx(1.0)
    ml = scores(np.array([[0.5, 0.5], [0.99, 0.01]]), "multilabel")
    assert ml[0] == pytest.approx(1.0) and ml[1] < 0.1
    seg = np.zeros((2, 2, 4, 4))
    seg[0, 0] = 1.0  # sure everywhere
    seg[1] = 0.5  # a coin toss everywhere
    assert scores(seg, "segmentation") == pytest.approx([0.0, 1.0], abs=1e-6)
    with pytest.raises(ValueError, match="not defined for regression"):
        scores(p, "regression")


def test_rank_unlabeled_images_of_a_project(tmp_path):
    project = make_project(tmp_path / "p", n=12)
    ids = project.query()[:5]
    project.set_labels(ids, [])  # five unlabeled images
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("red", "blue"))
    pred = Predictor.from_path(model, device="cpu")
    seen = []
    ranked = rank_unlabeled(project, pred, on_progress=lambda d, t: seen.append((d, t)))
    assert sorted(i for i, _ in ranked) == sorted(ids)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)
    assert seen[-1] == (5, 5)
    c = RunControl()
    c.cancel()
    with pytest.raises(Cancelled):
        rank_unlabeled(project, pred, control=c)
    project.close()


def test_cli_label_next_needs_a_model_then_lists(tmp_path, capsys):
    import json
    import shutil

    import main

    project = make_project(tmp_path / "p", n=12)
    project.set_labels(project.query()[:4], [])
    project.close()
    rc = main.main(["check", str(tmp_path / "p"), "--label-next", "3"])
    assert rc == 1 and "Train a model in this project first" in capsys.readouterr().err
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("red", "blue"))
    shutil.copy(model, tmp_path / "p" / "models" / "best.pt")
    rc = main.main(["check", str(tmp_path / "p"), "--label-next", "3", "--json"])
    rows = json.loads(capsys.readouterr().out)["label_next"]
    assert rc == 0 and len(rows) == 3
    scores_ = [r["uncertainty"] for r in rows]
    assert scores_ == sorted(scores_, reverse=True)

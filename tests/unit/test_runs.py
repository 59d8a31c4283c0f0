"""Training runs and the model in use: each run in its own folder; models/best.pt (what
Evaluate and Predict use) changes only when a run finishes better, or the user chooses a run."""

from __future__ import annotations

import json

import pytest
import torch

from engine.control import RunControl
from engine.errors import TrainingError
from engine.predict.predictor import Predictor
from engine.training.evaluation import load_evaluation
from engine.training.runs import get_run, list_runs, load_history, use_run
from engine.training.train import train
from tests.support.projects import make_project, tiny_config
from tests.support.weights import save_tiny_model

GOOD = {"arch": "resnet18", "freeze_epochs": 0, "epochs": 2, "lr": 2e-3}


def _cfg(**kw):
    return tiny_config(**{**GOOD, **kw})


def _swap_train_labels(project) -> None:
    """Teach the next run the wrong colours: its model then does worse on the valid images."""
    for rec in project.images(project.query(split="train")):
        project.set_labels([rec.id], ["blue" if rec.labels == ("red",) else "red"])


def _in_use(project) -> tuple[bytes, str]:
    """The model in use's bytes and the run its evaluation names."""
    return (project.path / "models" / "best.pt").read_bytes(), load_evaluation(project).run_id


class StopAfterFirstEpoch:
    def __init__(self, control: RunControl):
        self.control = control

    def on_epoch_end(self, ev):
        self.control.cancel()


def test_a_worse_run_stopped_or_finished_leaves_the_model_in_use(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=48)
    good = train(project, _cfg())
    before = _in_use(project)
    assert before[1] == good.run_id and load_evaluation(project).metrics["accuracy"] >= 0.9

    _swap_train_labels(project)
    control = RunControl()
    stopped = train(project, _cfg(), [StopAfterFirstEpoch(control)], control)
    assert stopped.cancelled and stopped.run_id != good.run_id
    assert (project.path / "models" / "runs" / stopped.run_id / "last.pt").is_file()
    assert get_run(project, stopped.run_id).status == "stopped"
    assert _in_use(project) == before

    worse = train(project, _cfg())
    rec = get_run(project, worse.run_id)
    assert rec.status == "finished" and not rec.promoted
    assert not worse.promoted and not stopped.promoted
    # both measured now, on the same validation images
    assert rec.final_metrics["accuracy"] <= 0.5 and rec.in_use_metric >= 0.9
    assert _in_use(project) == before
    assert [r.run_id for r in list_runs(project)] == [good.run_id, stopped.run_id, worse.run_id]
    assert [h["epoch"] for h in load_history(project)] == [0, 1]  # the latest run's

    # the user may still choose the worse run; Evaluate then describes it
    ev = use_run(project, worse.run_id)
    assert ev.metrics["accuracy"] <= 0.5 and _in_use(project)[1] == worse.run_id
    ck = torch.load(project.path / "models" / "best.pt", weights_only=True)
    assert ck["run_id"] == worse.run_id
    with pytest.raises(TrainingError, match="no training run"):
        use_run(project, "19990101-000000")


def test_a_finished_better_run_becomes_the_model_in_use(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=48)
    _swap_train_labels(project)
    bad = train(project, _cfg())
    assert get_run(project, bad.run_id).promoted  # the first model: nothing to compare with
    assert bad.promoted  # the FitEnd the GUI shows says so too
    assert load_evaluation(project).metrics["accuracy"] <= 0.5

    _swap_train_labels(project)  # labels right again
    better = train(project, _cfg())
    rec = get_run(project, better.run_id)
    assert rec.promoted and rec.in_use_metric <= 0.5 and rec.final_metrics["accuracy"] >= 0.9
    ev = load_evaluation(project)
    assert ev.run_id == better.run_id and ev.metrics["accuracy"] >= 0.9
    ck = torch.load(project.path / "models" / "best.pt", weights_only=True)
    assert ck["run_id"] == better.run_id


def test_an_older_project_with_only_models_best_pt_still_works(tmp_path):
    project = make_project(tmp_path / "p", "classification", n=48)
    models = project.path / "models"

    names = tuple(project.class_names())

    def always_red(bundle):
        bundle.head[-1].weight.zero_()
        bundle.head[-1].bias.copy_(torch.tensor([5.0 if n == "red" else -5.0 for n in names]))

    save_tiny_model(models / "best.pt", "classification", "resnet18", names, tweak=always_red)
    old_history = [{"epoch": 0, "train_loss": 0.7, "valid_loss": 0.7, "metrics": {}}]
    (models / "history.json").write_text(json.dumps(old_history))
    (models / "evaluation.json").write_text(
        json.dumps({"task": "classification", "class_names": list(names), "items": []})
    )
    assert load_evaluation(project).run_id == ""  # written before runs existed
    assert load_history(project) == old_history
    blue = project.images(project.query(label="blue"))[0]
    pred = Predictor.from_path(project.path).predict(project.abspath(blue.file))
    assert pred.label == "red" and pred.probs["red"] > 0.99
    with pytest.raises(TrainingError, match="no interrupted run to resume"):
        train(project, _cfg(), resume=True)

    end = train(project, _cfg())  # measured against the old model on the same images
    rec = get_run(project, end.run_id)
    assert rec.promoted and rec.in_use_metric == pytest.approx(0.5)
    assert load_evaluation(project).run_id == end.run_id
    # Predict and Evaluate now describe the same, new model
    predictor = Predictor.from_path(project.path)
    for item in load_evaluation(project).items:
        pred = predictor.predict(project.abspath(project.image(item.image_id).file))
        assert pred.label == item.prediction
        assert list(pred.probs.values()) == pytest.approx(item.probabilities, abs=1e-4)

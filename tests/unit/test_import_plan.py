"""The import plan (engine.imports.plan): one object for the split every importer follows,
saved with the project, read back on open, set by a re-split and by the command line."""

from __future__ import annotations

import json

import pytest

from cli.main import run
from engine.errors import ProjectError
from engine.imports.api import import_folder, import_paths
from engine.imports.pipeline import ImportTuning
from engine.imports.plan import PLAN_FILE, ImportPlan, project_plan, resplit, save_plan
from engine.project.store import Project
from tests.support.images import write_class_folders


def test_a_plan_checks_its_fractions():
    plan = ImportPlan(valid_pct=0.25, test_pct=0.15, seed=3)
    assert plan.train_pct == pytest.approx(0.6)
    assert plan.split() == {"valid_pct": 0.25, "test_pct": 0.15, "seed": 3}
    assert ImportPlan().tuning == ImportTuning()
    for bad in ({"valid_pct": 1.0}, {"test_pct": -0.1}, {"valid_pct": 0.6, "test_pct": 0.4}):
        with pytest.raises(ProjectError, match="sum below 1"):
            ImportPlan(**bad)
    with pytest.raises(ProjectError, match="not a whole number"):
        ImportPlan(seed="7")


def test_the_plan_is_saved_with_the_project_and_read_back_on_open(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    assert project_plan(p) == ImportPlan()  # nothing saved yet: the defaults
    save_plan(p, ImportPlan(valid_pct=0.3, seed=9))
    p.close()
    saved = json.loads((tmp_path / "p" / PLAN_FILE).read_text())
    assert saved == {"valid_pct": 0.3, "test_pct": 0.0, "seed": 9}  # the split, not the pacing
    with Project.open(tmp_path / "p") as q:
        assert project_plan(q) == ImportPlan(valid_pct=0.3, seed=9)


def test_an_old_project_gets_its_training_split_or_the_defaults(tmp_path):
    p = Project.create(tmp_path / "p", "classification")
    p.save_settings({"arch": "resnet18", "valid_pct": 0.25, "seed": 5})  # training.json
    assert project_plan(p) == ImportPlan(valid_pct=0.25, seed=5)
    (p.path / PLAN_FILE).write_text('{"valid_pct": "lots", "seed": 2}')  # hand-edited
    problems: list[str] = []
    assert project_plan(p, problems) == ImportPlan(seed=2)
    assert problems and "not a number" in problems[0]
    (p.path / PLAN_FILE).write_text("{not json")
    problems = []
    assert project_plan(p, problems) == ImportPlan(valid_pct=0.25, seed=5)  # as if none
    assert PLAN_FILE in problems[0]


def test_a_resplit_is_the_plan_the_next_import_follows(tmp_path):
    """The Re-split dialog's engine side: 40 %, seed 7 re-splits what is there and is kept,
    so the images imported next are split 40 % too (they were split 20 %, seed 42)."""
    p = Project.create(tmp_path / "p", "classification")
    write_class_folders(tmp_path / "a", ("cat", "dog"), per_class=5)
    import_folder(p, tmp_path / "a")
    assert p.counts().per_split == {"train": 8, "valid": 2}
    resplit(p, ImportPlan(valid_pct=0.4, seed=7))
    assert p.counts().per_split == {"train": 6, "valid": 4}
    write_class_folders(tmp_path / "b", ("cat", "dog"), per_class=5, seed=50)
    rep = import_paths(p, [tmp_path / "b"])
    assert rep.splits == {"train": 6, "valid": 4}
    assert project_plan(p) == ImportPlan(valid_pct=0.4, seed=7)
    with pytest.raises(ProjectError, match="sum below 1"):
        p.assign_splits(0.9, 0.2)  # a bad split changes nothing
    assert project_plan(p).valid_pct == 0.4


def test_command_line_options_build_the_plan_and_become_the_projects(tmp_path, capsys):
    write_class_folders(tmp_path / "a", ("cat", "dog"), per_class=5)
    write_class_folders(tmp_path / "b", ("cat", "dog"), per_class=5, seed=50)
    proj = str(tmp_path / "p")
    assert run(["new", proj, "--from", str(tmp_path / "a"), "--valid-pct", "0.4"]) == 0
    assert run(["import", proj, "--from", str(tmp_path / "b")]) == 0  # no options: the plan's
    with Project.open(proj) as p:
        assert project_plan(p) == ImportPlan(valid_pct=0.4)
        assert p.counts().per_split == {"train": 12, "valid": 8}
    capsys.readouterr()
    assert run(["import", proj, "--from", str(tmp_path / "b"), "--test-pct", "0.7"]) == 1
    assert "Split percentages must be between 0 and 1 and sum below 1" in capsys.readouterr().err

"""Every file Topdown reads back from a project (issue 19), fuzzed with hypothesis the way
test_fuzz_label_files.py fuzzes the labels CSV: whatever project.json, training.json, run.json,
history.json or lr_find.json holds (bytes, broken JSON, valid JSON of the wrong shape or types),
its reader returns a usable value or raises the project's own error naming the file, never
another exception. (codes.txt is fuzzed in test_fuzz_label_files.py; model.json is written for
people and never read back.) Few examples each keep the suite fast."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.config import TrainConfig
from engine.errors import EngineError
from engine.project.db import read_meta
from engine.project.store import Project

FUZZ = settings(
    max_examples=25,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_JSON = st.recursive(
    _SCALAR,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _keyed(keys: list[str]):
    """JSON objects using the real file's keys, with values of any type (the likely damage)."""
    return st.dictionaries(st.sampled_from(keys), _JSON, max_size=len(keys))


def _content(keys: list[str]):
    as_text = st.one_of(_JSON, _keyed(keys)).map(json.dumps)
    return st.one_of(
        as_text.map(str.encode),
        as_text.map(lambda t: t[: len(t) // 2].encode()),  # cut short (a crash mid-write)
        st.binary(max_size=60),
    )


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("fuzz") / "p"
    Project.create(path, "classification").close()
    return path


@FUZZ
@given(
    data=_content(["format", "schema_version", "task", "name", "targets", "created"]),
    marker=st.booleans(),
)
def test_project_json(project_dir, data, marker):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "p"
        shutil.copytree(project_dir, p)
        if marker:  # keep the format marker, so the other keys' checks are reached
            try:
                obj = json.loads(data)
            except ValueError:
                obj = None
            if isinstance(obj, dict):
                obj["format"] = "topdown-project"
                data = json.dumps(obj).encode()
        (p / "project.json").write_bytes(data)
        try:
            meta = read_meta(p)
        except EngineError as e:
            assert "project.json" in str(e) or str(p) in str(e)
            return
        with Project.open(p) as project:  # what read_meta let through opens and reads back
            assert isinstance(project.name, str) and isinstance(project.targets, list)
            assert project.task == meta["task"]


_CONFIG_KEYS = [f for f in TrainConfig().to_dict()]


@FUZZ
@given(data=_content(_CONFIG_KEYS))
def test_training_json(project_dir, data):
    (project_dir / "training.json").write_bytes(data)
    with Project.open(project_dir) as project:
        problems: list[str] = []
        cfg = TrainConfig.from_dict(project.load_settings(problems=problems), problems)
    defaults = TrainConfig()
    for key, value in cfg.to_dict().items():  # every field has its type: training can use it
        want = type(getattr(defaults, key))
        assert isinstance(value, want) or (key == "lr" and value is None), (key, value)
    assert all(isinstance(p, str) for p in problems)


_RUN_KEYS = ["run_id", "status", "started", "config", "epochs", "epochs_done", "metric",
             "best_metric", "best_epoch", "final_metrics", "promoted", "in_use_metric",
             "error", "world_size", "global_batch_size", "lr_used"]  # fmt: skip


@FUZZ
@given(run=_content(_RUN_KEYS), history=_content(["epoch", "train_loss", "valid_loss", "metrics"]))
def test_run_json_and_history_json(project_dir, run, history):
    from engine.training import runs

    folder = project_dir / "models" / "runs" / "20260101-000000"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run.json").write_bytes(run)
    (folder / "history.json").write_bytes(history)
    (folder / "last.pt").write_bytes(b"")
    with Project.open(project_dir) as project:
        for rec in runs.list_runs(project):  # a broken record is left out, never an error
            assert isinstance(rec.status, str) and isinstance(rec.config, dict)
            TrainConfig.from_dict(rec.config)
        try:
            runs.resumable_run(project)
        except EngineError:
            pass
        try:
            hist = runs.load_history(project)
        except EngineError as e:
            assert "history.json" in str(e)
        else:
            assert isinstance(hist, list)


@FUZZ
@given(data=_content(["key", "lrs", "losses", "suggestion"]))
def test_lr_find_json(project_dir, data):
    from engine.training import lr_find

    (project_dir / "models" / "lr_find.json").write_bytes(data)
    with Project.open(project_dir) as project:
        try:
            key = json.loads(data).get("key")
        except (ValueError, AttributeError):
            key = "k"
        res = lr_find.load_cached(project, key if isinstance(key, str) else "k")
    if res is not None:  # what comes back prints as the CLI's table
        assert len(res.lrs) == len(res.losses) > 0 and res.suggestion > 0
        list(zip(res.lrs, res.losses, strict=True))

"""Export: every task to ONNX and TorchScript with the parity check, the model.json card, the
exported file run again as a user would (any batch size), and the bad inputs that must fail
with one clear line and leave nothing behind."""

from __future__ import annotations

import errno
import hashlib
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest

import main
from engine.export import backends as export_backends
from engine.export.api import ExportError, export_model
from engine.predict.predictor import Predictor
from engine.project.store import Project
from tests.support.projects import make_project, tiny_config
from tests.support.weights import save_tiny_model

TASKS = ("classification", "multilabel", "regression", "segmentation")
ARCH = {"segmentation": "unet_resnet18"}
MODEL_FILES = {"onnx": "model.onnx", "torchscript": "model.torchscript.pt"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny trained project per task (trained once for the module)."""
    from engine.training.train import train

    root = tmp_path_factory.mktemp("export_projects")
    out = {}
    for task in TASKS:
        p = make_project(root / task, task, n=12)
        train(p, tiny_config(arch=ARCH.get(task, "resnet18"), batch_size=4, freeze_epochs=0))
        p.close()
        out[task] = root / task
    return out


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    """get(task, fmt) -> (report, folder): each export made once for the module."""
    root, done = tmp_path_factory.mktemp("exports"), {}

    def get(task: str, fmt: str):
        if (task, fmt) not in done:
            folder = root / f"{task}-{fmt}"
            done[task, fmt] = (export_model(trained[task], fmt, folder), folder)
        return done[task, fmt]

    return get


def _run_exported(fmt: str, path: Path, batch: np.ndarray) -> np.ndarray:
    """Run the file the way a user would: onnxruntime, or torch.jit.load."""
    if fmt == "onnx":
        import onnxruntime as ort

        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return session.run(None, {"image": batch})[0]
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated, still works
        module = torch.jit.load(str(path))
    with torch.no_grad():
        return module(torch.from_numpy(batch)).numpy()


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("task", TASKS)
def test_every_task_exports_with_parity_and_card(trained, exported, task, fmt):
    project = trained[task]
    report, out = exported(task, fmt)
    model_file = out / MODEL_FILES[fmt]
    assert report.model_path == str(model_file) and model_file.is_file()
    assert sorted(p.name for p in out.iterdir()) == sorted([MODEL_FILES[fmt], "model.json"])

    par = report.parity
    assert par.ok and par.inputs == "validation images" and par.n_images >= 2
    assert par.max_abs_diff <= par.tolerance < 1e-4 * par.max_abs_output + 1.1e-5
    assert par.batch_sizes[0] == 1 and sum(par.batch_sizes) == par.n_images
    if task == "regression":
        assert par.agreement is None
    else:
        assert par.agreement == 1.0

    card = json.loads((out / "model.json").read_text())
    predictor = Predictor.from_path(project, device="cpu")
    s = predictor.image_size
    assert card["file"] == model_file.name and card["file_format"] == fmt
    assert card["sha256"] == hashlib.sha256(model_file.read_bytes()).hexdigest()
    assert card["task"] == task and card["architecture"] == predictor.arch
    if task == "regression":
        assert card["targets"] == ["brightness"] and "class_names" not in card
    else:
        assert card["class_names"] == predictor.class_names
    assert card["image_size"] == s and card["input"]["shape"] == ["batch", 3, s, s]
    assert card["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert "squish" in " ".join(card["preprocessing"])
    assert card["validation_metrics"] == predictor.meta["metrics"] and card["validation_metrics"]
    assert card["weights_started_from"].startswith("none")
    assert card["versions"]["torch"] and card["versions"]["topdown"]
    n_train = 12 - par.n_images  # every image of these projects is labeled; the rest are valid
    assert card["training_images"]["count"] == n_train
    assert len(card["training_images"]["sha256"]) == 64
    assert card["parity"]["max_abs_diff"] == par.max_abs_diff and card["parity"]["ok"]

    # The file alone, a batch of 3 (not the traced 2): same answers as Topdown's predictor.
    with Project.open(project) as p:
        paths = [p.abspath(r.file) for r in p.images()[:3]]
    batch = np.stack([predictor.prepare_unit(x)[0] for x in paths])
    got = _run_exported(fmt, model_file, batch)
    expect_shape = (3, predictor.n_outputs) + ((s, s) if task == "segmentation" else ())
    assert got.shape == expect_shape
    preds = [predictor.predict(x) for x in paths]
    if task == "classification":
        assert [predictor.class_names[i] for i in got.argmax(1)] == [q.label for q in preds]
    elif task == "multilabel":
        on = 1 / (1 + np.exp(-got)) >= predictor.threshold
        names = predictor.class_names
        assert [[n for n, y in zip(names, row, strict=True) if y] for row in on] == [
            q.labels for q in preds
        ]
    elif task == "regression":
        assert got[:, 0] == pytest.approx([q.values[0] for q in preds], rel=1e-4)
    else:
        assert all((got[i].argmax(0) == q.mask).all() for i, q in enumerate(preds))


def test_training_image_hash_follows_the_training_list(trained, tmp_path):
    """The card's hash is over the sorted (sha1, file) list of labeled training images."""
    with Project.open(trained["classification"]) as p:
        recs = [r for r in p.images(p.query(split="train")) if r.labels]
    text = "\n".join(sorted(f"{r.sha1} {r.file}" for r in recs))
    export_model(trained["classification"], "torchscript", tmp_path)
    card = json.loads((tmp_path / "model.json").read_text())
    assert card["training_images"]["sha256"] == hashlib.sha256(text.encode()).hexdigest()


def test_a_model_file_outside_a_project_exports_with_random_inputs(tmp_path):
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("a", "b"))
    report = export_model(model, "onnx", max_images=5)
    assert Path(report.model_path) == tmp_path / "export" / "onnx" / "model.onnx"
    assert report.parity.ok and report.parity.inputs == "random images"
    assert report.parity.n_images == 5 and report.parity.batch_sizes == [1, 4]
    card = json.loads((tmp_path / "export" / "onnx" / "model.json").read_text())
    assert card["training_images"]["count"] is None
    assert card["weights_started_from"].startswith("unknown")


def test_a_wrong_export_fails_parity_and_keeps_the_old_export(trained, tmp_path, monkeypatch):
    """A real defect - normalisation left out of the graph - is caught; nothing is replaced."""
    out = tmp_path / "out"
    export_model(trained["classification"], "onnx", out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(export_backends, "normalized_model", lambda model, mean, std: model)
    with pytest.raises(ExportError, match="Parity check failed.*tolerance"):
        export_model(trained["classification"], "onnx", out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temp files either


def test_failed_export_into_a_new_folder_leaves_no_folder(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(export_backends, "normalized_model", lambda model, mean, std: model)
    with pytest.raises(ExportError, match="nothing was written"):
        export_model(trained["segmentation"], "torchscript", tmp_path / "new" / "deeper")
    assert list(tmp_path.iterdir()) == []


def test_disk_full_while_writing_leaves_no_partial_file(trained, tmp_path, monkeypatch):
    def half_written(fmt, wrapped, size, path, exporter="legacy"):
        Path(path).write_bytes(b"half a model")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(export_backends, "write_model", half_written)
    out = tmp_path / "out"
    with pytest.raises(ExportError, match=re.escape(f"to {out} (No space left on device)")):
        export_model(trained["classification"], "onnx", out)
    assert not out.exists()


def test_dynamo_exporter_gives_the_same_parity(trained, tmp_path):
    report = export_model(trained["classification"], "onnx", tmp_path, onnx_exporter="dynamo")
    card = json.loads((tmp_path / "model.json").read_text())
    assert report.parity.ok and report.parity.agreement == 1.0
    assert "dynamo=True" in card["exporter"] and card["opset"] >= 18


# ---- the command line and bad input -------------------------------------------------------


def test_cli_exports_and_prints_json(trained, tmp_path, capsys):
    rc = main.main(["export", str(trained["regression"]), "--format", "torchscript",
                    "--out", str(tmp_path), "--json"])  # fmt: skip
    out = capsys.readouterr()
    assert rc == 0, out.err
    rep = json.loads(out.out)
    assert rep["model_path"] == str(tmp_path / "model.torchscript.pt")
    assert rep["parity"]["ok"] and rep["parity"]["max_abs_diff"] <= rep["parity"]["tolerance"]


def _cli_error(argv, capsys) -> str:
    rc = main.main(["export", *argv])
    out = capsys.readouterr()
    assert rc == 1 and out.out == ""
    assert len(out.err.strip().splitlines()) == 1 and "Traceback" not in out.err
    return out.err


def test_cli_project_without_a_model(tmp_path, capsys):
    make_project(tmp_path / "p", "classification", n=8).close()
    err = _cli_error([str(tmp_path / "p")], capsys)
    assert "has no trained model yet" in err and str(tmp_path / "p") in err
    assert not (tmp_path / "p" / "export").exists()


def test_cli_unknown_format(trained, tmp_path, capsys):
    err = _cli_error([str(trained["classification"]), "--format", "tflite",
                      "--out", str(tmp_path / "o")], capsys)  # fmt: skip
    assert "Unknown export format 'tflite'" in err and "onnx, torchscript" in err
    assert not (tmp_path / "o").exists()


def test_cli_output_folder_that_cannot_be_made(trained, tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    err = _cli_error([str(trained["classification"]), "--out", str(blocker / "sub")], capsys)
    assert f"Cannot write to the output folder {blocker / 'sub'}" in err
    err = _cli_error([str(trained["classification"]), "--out", str(blocker)], capsys)
    assert "it is a file, not a folder" in err
    assert blocker.read_text() == "x"


def test_cli_output_folder_without_write_permission(trained, tmp_path, capsys, monkeypatch):
    """What a read-only folder gives (tests run as root, where chmod alone does not stop it)."""
    out = tmp_path / "readonly"
    out.mkdir()

    def refuse(*a, **k):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    err = _cli_error([str(trained["classification"]), "--out", str(out)], capsys)
    assert f"Cannot write to the output folder {out} (Permission denied)" in err
    assert list(out.iterdir()) == []


def test_missing_onnx_packages_named(trained, tmp_path, monkeypatch):
    import builtins

    real = builtins.__import__

    def no_onnxruntime(name, *a, **k):
        if name == "onnxruntime":
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", no_onnxruntime)
    with pytest.raises(ExportError, match=r"needs onnxruntime.*topdown\[export\]"):
        export_model(trained["classification"], "onnx", tmp_path / "o")
    assert not (tmp_path / "o").exists()


# ---- the README's snippet: the exported ONNX model with onnxruntime, numpy and Pillow only ----

README = Path(__file__).resolve().parents[2] / "README.md"
SNIPPET_MARK = "<!-- onnx-snippet: tested verbatim by tests/unit/test_export.py -->"
BLOCKER = """import runpy, sys
class NoTopdown:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"engine", "gui", "main", "torch", "torchvision", "PySide6"}:
            raise ImportError(f"the README snippet imported {name}")
sys.meta_path.insert(0, NoTopdown())
sys.argv = ["run_model.py", *sys.argv[1:]]
runpy.run_path("run_model.py", run_name="__main__")
"""


def readme_snippet() -> str:
    """The python block right after the marker in README.md, exactly as a reader copies it."""
    text = README.read_text(encoding="utf-8")
    assert SNIPPET_MARK in text, "README.md lost its tested ONNX snippet"
    block = text.split(SNIPPET_MARK, 1)[1].lstrip("\n")
    assert block.startswith("```python\n")
    return block.removeprefix("```python\n").split("\n```", 1)[0] + "\n"


def _run_snippet(folder: Path, image: Path, cwd: Path) -> dict:
    """python3 -I (no PYTHONPATH) with Topdown, torch and Qt imports refused."""
    import subprocess
    import sys

    (cwd / "run_model.py").write_text(readme_snippet())
    (cwd / "launch.py").write_text(BLOCKER)
    proc = subprocess.run(
        [sys.executable, "-I", "launch.py", str(folder), str(image)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("task", TASKS)
def test_readme_snippet_runs_the_onnx_model_like_topdown(trained, exported, task, tmp_path):
    from PIL import Image

    _report, folder = exported(task, "onnx")
    predictor = Predictor.from_path(trained[task], device="cpu")
    with Project.open(trained[task]) as p:
        image = p.abspath(p.images(p.query(split="valid"))[0].file)
    other = tmp_path / "other size.jpg"  # not the model's size: the resize rule is exercised
    Image.open(image).convert("RGB").resize((48, 40)).save(other, quality=95)
    for path in (image, other):
        got = _run_snippet(folder, path, tmp_path)
        want = predictor.predict(path)
        if task == "classification":
            assert got["label"] == want.label
            assert got["probability"] == pytest.approx(want.probs[want.label], abs=1e-4)
        elif task == "multilabel":
            assert got["labels"] == want.labels
        elif task == "regression":
            assert got["brightness"] == pytest.approx(want.values[0], rel=1e-4)
        else:
            mask = np.asarray(Image.open(tmp_path / got["mask"]))
            assert mask.shape == want.mask.shape  # back at the image's own size
            if path == image:  # same size as the model's input: the very same mask
                assert (mask == want.mask).all()

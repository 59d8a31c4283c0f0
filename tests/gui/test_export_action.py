"""File ▸ Export model…: greyed out without a trained model; asks format and folder, exports on
the worker thread and shows the parity figures; a folder that cannot be written is a message."""

from __future__ import annotations

import json

import pytest

from tests.support.projects import make_project as make_train_project
from tests.support.projects import train_tiny_projects
from tests.support.qt import shown_main_window


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train_tiny_projects(tmp_path_factory.mktemp("trained"), {"segmentation": 12})


def _file_menu_texts(window) -> list[str]:
    return [a.text().replace("&", "") for a in window.menuBar().actions()[0].menu().actions()]


def test_export_from_the_file_menu_shows_parity(qtbot, trained, tmp_path, monkeypatch):
    window = shown_main_window(qtbot)
    act = window.menus.export_action
    assert "Export model…" in _file_menu_texts(window)
    assert not act.action.isEnabled()  # no project open
    assert window.projects.open_project(str(trained["segmentation"]))
    assert act.action.isEnabled()
    asked = []
    monkeypatch.setattr(act, "ask_format", lambda: "torchscript")
    monkeypatch.setattr(act, "ask_folder", lambda s: asked.append(s) or str(tmp_path / "out"))
    with qtbot.waitSignal(window.bridge.finished, timeout=120000):
        act.action.trigger()
    assert asked == [trained["segmentation"]]  # no export folder yet: the project is suggested
    title, text = window.last_message
    assert title == "Model exported"
    assert str(tmp_path / "out" / "model.torchscript.pt") in text
    assert "largest difference from PyTorch is" in text and "of predicted mask pixels agree" in text
    card = json.loads((tmp_path / "out" / "model.json").read_text())
    assert card["task"] == "segmentation" and card["parity"]["ok"]
    assert f"{card['parity']['max_abs_diff']:.3g}" in text


def test_unwritable_folder_is_a_message_cancel_does_nothing(qtbot, trained, tmp_path, monkeypatch):
    window = shown_main_window(qtbot)
    assert window.projects.open_project(str(trained["segmentation"]))
    act = window.menus.export_action
    monkeypatch.setattr(act, "ask_format", lambda: None)  # the user closes the format dialog
    act.action.trigger()
    assert not window.bridge.busy and window.last_message == ("", "")
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    monkeypatch.setattr(act, "ask_format", lambda: "onnx")
    monkeypatch.setattr(act, "ask_folder", lambda s: str(blocker / "sub"))
    with qtbot.waitSignal(window.bridge.failed, timeout=60000):
        act.action.trigger()
    title, text = window.last_message
    assert title == "The model could not be exported"
    assert f"Cannot write to the output folder {blocker / 'sub'}" in text


def test_project_without_a_model_greys_the_action_out(qtbot, tmp_path):
    make_train_project(tmp_path / "p", "classification", n=8).close()
    window = shown_main_window(qtbot)
    assert window.projects.open_project(str(tmp_path / "p"))
    assert not window.menus.export_action.action.isEnabled()
    window.menus.export_action.start()  # e.g. reached while a training run had not saved yet
    assert window.last_message[0] == "No trained model"


def test_onnx_without_its_packages_is_said_before_a_folder_is_asked(qtbot, trained, monkeypatch):
    import importlib.util

    window = shown_main_window(qtbot)
    assert window.projects.open_project(str(trained["segmentation"]))
    act = window.menus.export_action
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda n, *a: None if n == "onnxruntime" else real(n, *a)
    )  # a first install: `pip install -e .` without the [export] extra
    asked = []
    monkeypatch.setattr(act, "ask_format", lambda: "onnx")
    monkeypatch.setattr(act, "ask_folder", lambda s: asked.append(s))
    act.action.trigger()
    title, text = window.last_message
    assert asked == [] and not window.bridge.busy
    assert "onnxruntime" in text and "pip install 'topdown[export]'" in text

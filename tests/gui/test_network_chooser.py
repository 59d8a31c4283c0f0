"""The Train page's network chooser: the curated list small-first with one line each, and the
searchable "More networks…" over timm's names, whose choice is saved and checked for weights."""

from __future__ import annotations

import pytest

from engine.config import TrainConfig
from engine.models.registry import architectures_for
from engine.project.demo import create_demo_project
from gui.train.network_chooser import MORE, NetworkCombo
from gui.train.settings import SettingsPanel


@pytest.fixture
def panel(qtbot, tmp_path):
    p = create_demo_project(tmp_path / "demo", "classification", n=8, size=32)
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.set_project(p)
    panel.set_engine_info(architectures_for("classification"), None)
    yield panel
    p.close()


def test_curated_list_is_small_first_and_ends_with_more(panel):
    combo = panel.arch
    names = [combo.itemData(i) for i in range(combo.count())]
    assert names[-1] == MORE and "timm/tf_efficientnet_lite0" in names
    params = {s.name: s.params_m for s in architectures_for("classification")}
    shown = [params[n] for n in names[:-1]]
    assert shown == sorted(shown) and shown[0] == 2.5  # mobilenet v3 small (either library)
    line = combo.itemData(names.index("timm/tf_efficientnet_lite0"), 3)  # ToolTipRole
    assert "M parameters" in line and "CPU" in line
    assert combo.currentData() == TrainConfig().arch  # the project's network stays selected


def test_more_networks_searches_timm_and_the_choice_is_saved(qtbot, panel, monkeypatch):
    combo = panel.arch
    before = combo.currentData()
    combo.setCurrentIndex(combo.findData(MORE))
    dialog = combo.dialog
    assert dialog is not None and dialog.isVisible()
    assert combo.currentData() == before  # not "More…" while the dialog is open
    assert dialog.proxy.rowCount() > 1000
    dialog.search.setText("ghostnet_1")
    assert 0 < dialog.proxy.rowCount() < 10 and dialog.current_name().startswith("ghostnet_1")
    dialog.search.setText("ghostnet_100")
    assert dialog.current_name() == "ghostnet_100"
    dialog.accept()
    assert combo.currentData() == "timm/ghostnet_100"
    assert TrainConfig.from_dict(panel.project.load_settings()).arch == "timm/ghostnet_100"
    # the pretrained check works for it like for any other: offline, the panel names the file
    monkeypatch.setattr("engine.models.weights._found_file", lambda spec: None)
    panel.online = False
    assert not panel.check_weights(panel.config())
    assert "ghostnet_100" in panel.weights_msg.text() and panel.weights_box.isVisibleTo(panel)


def test_a_saved_timm_network_outside_the_list_is_shown(qtbot, tmp_path):
    p = create_demo_project(tmp_path / "demo", "segmentation", n=4, size=32)
    p.save_settings(TrainConfig(arch="timm-unet/ghostnet_100").to_dict())
    panel = SettingsPanel()
    qtbot.addWidget(panel)
    panel.set_project(p)
    panel.set_engine_info(architectures_for("segmentation"), None)
    assert panel.arch.currentData() == "timm-unet/ghostnet_100"
    assert panel.arch.itemData(panel.arch.count() - 1) == MORE
    combo = NetworkCombo()
    qtbot.addWidget(combo)
    combo.set_archs(architectures_for("segmentation"), "segmentation")
    d = combo.open_more()
    d.search.setText("resnet18d")
    d.accept()
    assert combo.currentData() == "timm-unet/resnet18d"
    p.close()

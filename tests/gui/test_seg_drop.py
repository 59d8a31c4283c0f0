"""Dropping a CamVid-style folder (train/ trainannot/ val/ valannot/ codes.txt) on the window:
a new project is offered as segmentation, the masks come in as masks (not as photos, not as
classes), and the report dialog says what was found, including the void class."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtWidgets import QDialog

from tests.support.qt import drop_files, shown_main_window


def write_camvid(root: Path) -> None:
    for split, annot, n in (("train", "trainannot", 3), ("val", "valannot", 2)):
        for i in range(n):
            rng = np.random.default_rng(hash((split, i)) % 2**32)
            (root / split).mkdir(parents=True, exist_ok=True)
            (root / annot).mkdir(parents=True, exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)).save(
                root / split / f"f{i}.png"
            )
            m = np.zeros((12, 16), np.uint8)
            m[4:8, 4:12] = 1
            m[0] = 2  # the void class
            Image.fromarray(m, "L").save(root / annot / f"f{i}.png")
    (root / "codes.txt").write_text("Road\nCar\nVoid\n", encoding="utf-8")


def test_drop_camvid_folder_offers_segmentation_and_reports(qtbot, tmp_path, monkeypatch):
    from gui.start import page as start_page

    window = shown_main_window(qtbot)
    src = tmp_path / "camvid"
    write_camvid(src)
    seen = {}

    def accept(dlg):
        seen["note"] = dlg.findChild(type(dlg.path_label), "note").text()
        seen["task"] = next(k for k, b in dlg.task_buttons.items() if b.isChecked())
        dlg.location_edit.setText(str(tmp_path / "projects"))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(start_page.NewProjectDialog, "exec", accept)
    with qtbot.waitSignal(window.bridge.finished, timeout=30000):
        assert drop_files(window, [src])
    assert seen["task"] == "segmentation"
    assert "train+trainannot (train)" in seen["note"] and "become the classes" not in seen["note"]
    p = window.project
    assert p.task == "segmentation" and p.class_names() == ["Road", "Car"]
    assert p.count() == 5 and p.counts().per_split == {"train": 3, "valid": 2}
    dlg = window.imports.report_dialog
    assert "Added 5 images. 5 with their masks." in dlg.summary.text()
    text = dlg.detected.text()
    assert dlg.detected.isVisibleTo(dlg) and "Classes: Road, Car." in text
    assert "'Void' in codes.txt (mask value 2) is treated as 'ignore'" in text

"""`main.py predict` end to end: JSON lines, readable lines, masks on disk, bad files."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

import main
from engine.imaging import load_mask
from tests.support.weights import save_tiny_model


def _images(folder, n, size=(40, 30)):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        a = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
        Image.fromarray(a).save(folder / f"img{i}.png")
    return folder


def _bias(values):
    def tweak(bundle):
        bundle.head[-1].weight.zero_()
        bundle.head[-1].bias.copy_(bundle.head[-1].bias.new_tensor(values))

    return tweak


def test_json_lines_for_a_folder_and_a_bad_file(tmp_path, capsys):
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("ant", "bee"),
                            tweak=_bias([0.0, 2.0]))  # fmt: skip
    folder = _images(tmp_path / "imgs", 3)
    (folder / "notes.txt").write_text("ignored: not an image name")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG broken")
    rc = main.main(["predict", str(model), str(folder), str(bad), "--json", "--device", "cpu"])
    out = capsys.readouterr()
    assert rc == 0
    recs = [json.loads(line) for line in out.out.splitlines()]
    assert [r["path"] for r in recs] == [str(folder / f"img{i}.png") for i in range(3)] + [str(bad)]
    for r in recs[:3]:
        assert r["label"] == "bee" and abs(sum(r["probs"].values()) - 1.0) < 1e-5
    assert "error" in recs[3] and "bad.png" in recs[3]["path"]
    assert "1 of 4 file(s) could not be used" in out.err


def test_readable_lines_regression_and_tta(tmp_path, capsys):
    model = save_tiny_model(tmp_path / "m.pt", "regression", targets=("length",),
                            tweak=_bias([12.25]))  # fmt: skip
    img = _images(tmp_path / "imgs", 1) / "img0.png"
    assert main.main(["predict", str(model), str(img), "--tta"]) == 0
    line = capsys.readouterr().out.strip()
    assert line == f"{img}: length=12.25"


def test_segmentation_masks_saved_into_masks_dir(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = ("bg", "leaf")
    project = tmp_path / "proj"
    save_tiny_model(project / "models" / "best.pt", "segmentation", "unet_resnet18", names)
    folder = _images(tmp_path / "imgs", 2, size=(50, 34))
    assert main.main(["predict", str(project), str(folder), "--json"]) == 0
    recs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(recs) == 2
    for r in recs:
        mask_file = tmp_path / r["mask"]
        assert mask_file.parent == tmp_path / "masks_pred"
        assert load_mask(mask_file).shape == (34, 50) and r["size"] == [50, 34]
        assert abs(sum(r["class_fractions"].values()) - 1.0) < 1e-4
    other = tmp_path / "out"
    assert main.main(["predict", str(project), str(folder), "--masks-dir", str(other)]) == 0
    text = capsys.readouterr().out
    assert sorted(p.name for p in other.iterdir()) == ["img0.png", "img1.png"]
    assert "mask " in text and "bg " in text


def test_missing_model_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "proj").mkdir()
    img = _images(tmp_path / "imgs", 1) / "img0.png"
    assert main.main(["predict", str(tmp_path / "proj"), str(img)]) == 1
    assert "has no trained model yet" in capsys.readouterr().err

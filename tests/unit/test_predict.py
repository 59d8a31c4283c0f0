"""Predictor: checkpoints from files and projects, every task, TTA, batches with bad files."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from engine.control import Cancelled, RunControl
from engine.events import Skipped
from engine.imaging import BadImage, load_mask
from engine.predict.predictor import ModelFileError, Predictor, save_mask_png
from tests.support.weights import save_tiny_model

CLASSES = ("cat", "dog", "fox")


def _image(path, size=(45, 70), seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _bias(values):
    """A head that ignores the image and outputs `values`: the right answer is known."""

    def tweak(bundle):
        head = bundle.head[-1]
        head.weight.zero_()
        head.bias.copy_(head.bias.new_tensor(values))

    return tweak


def test_classification_probs_and_known_answer(tmp_path):
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=CLASSES,
                            tweak=_bias([0.0, 5.0, 0.0]))  # fmt: skip
    p = Predictor.from_path(model, device="cpu")
    assert p.task == "classification" and p.class_names == list(CLASSES)
    pred = p.predict(_image(tmp_path / "a.png"))
    assert pred.label == "dog" and pred.labels == ["dog"] and pred.path.endswith("a.png")
    assert sum(pred.probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert pred.probs["dog"] == pytest.approx(math.exp(5) / (math.exp(5) + 2), rel=1e-4)
    assert p.predict(_image(tmp_path / "b.png"), tta=True).label == "dog"


def test_random_model_gives_valid_probabilities_and_pil_equals_path(tmp_path):
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=CLASSES)
    p = Predictor.from_path(model)
    path = _image(tmp_path / "a.jpg", seed=3)
    a, b = p.predict(path), p.predict(Image.open(path))
    assert sum(a.probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert a.probs == pytest.approx(b.probs) and b.path == ""
    flipped = p.predict(Image.open(path).transpose(Image.FLIP_LEFT_RIGHT), tta=True)
    assert p.predict(path, tta=True).probs == pytest.approx(flipped.probs, abs=1e-5)


def test_multilabel_threshold(tmp_path):
    model = save_tiny_model(tmp_path / "m.pt", "multilabel", class_names=CLASSES,
                            tweak=_bias([3.0, -3.0, 0.5]), threshold=0.6)  # fmt: skip
    pred = Predictor.from_path(model).predict(_image(tmp_path / "a.png"))
    assert pred.labels == ["cat", "fox"] and pred.label == "cat"
    assert pred.probs["dog"] == pytest.approx(1 / (1 + math.exp(3)), rel=1e-4)
    none = save_tiny_model(tmp_path / "n.pt", "multilabel", class_names=CLASSES,
                           tweak=_bias([-4.0, -4.0, -4.0]))  # fmt: skip
    empty = Predictor.from_path(none).predict(_image(tmp_path / "a.png"))
    assert empty.labels == [] and empty.label is None


def test_regression_values_in_target_order(tmp_path):
    model = save_tiny_model(tmp_path / "m.pt", "regression", targets=("age", "weight"),
                            tweak=_bias([31.5, -2.0]))  # fmt: skip
    p = Predictor.from_path(model)
    assert p.targets == ["age", "weight"]
    pred = p.predict(_image(tmp_path / "a.png"))
    assert pred.values == pytest.approx([31.5, -2.0]) and pred.label is None


def test_segmentation_mask_at_original_size(tmp_path):
    def all_class_two(bundle):
        bundle.model.final.weight.zero_()
        bundle.model.final.bias.copy_(bundle.model.final.bias.new_tensor([0.0, 0.0, 4.0]))

    names = ("background", "cell", "nucleus")
    known = save_tiny_model(tmp_path / "k.pt", "segmentation", "unet_resnet18", names,
                            tweak=all_class_two)  # fmt: skip
    pred = Predictor.from_path(known).predict(_image(tmp_path / "a.png", size=(45, 70)))
    assert pred.mask.shape == (70, 45) and pred.mask.dtype == np.uint8
    assert (pred.mask == 2).all() and pred.class_fractions["nucleus"] == 1.0

    rand = save_tiny_model(tmp_path / "r.pt", "segmentation", "unet_resnet18", names)
    pred = Predictor.from_path(rand).predict(_image(tmp_path / "b.png", size=(81, 33)), tta=True)
    assert pred.mask.shape == (33, 81) and pred.mask.max() < 3
    assert sum(pred.class_fractions.values()) == pytest.approx(1.0)
    out = save_mask_png(pred.mask, tmp_path / "masks" / "b.png")
    assert np.array_equal(load_mask(out), pred.mask)
    assert Image.open(out).mode == "P"


def test_huge_image_mask_still_at_original_size(tmp_path, monkeypatch):
    import engine.predict.predictor as P

    monkeypatch.setattr(P, "MAX_MASK_FLOATS", 3 * 20 * 20)  # pretend 300x200 is huge
    names = ("bg", "a", "b")
    model = save_tiny_model(tmp_path / "m.pt", "segmentation", "unet_resnet18", names)
    pred = Predictor.from_path(model).predict(_image(tmp_path / "big.png", size=(300, 200)))
    assert pred.mask.shape == (200, 300) and pred.mask.flags.c_contiguous
    assert sum(pred.class_fractions.values()) == pytest.approx(1.0)


def test_predict_many_skips_bad_files_and_keeps_order(tmp_path):
    model = save_tiny_model(tmp_path / "m.pt", "classification", class_names=CLASSES)
    p = Predictor.from_path(model)
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"this is not a jpeg")
    paths = [_image(tmp_path / f"{i}.png", seed=i) for i in range(5)]
    paths.insert(2, bad)
    paths.append(tmp_path / "missing.png")
    seen = []
    results = p.predict_many(paths, on_item=seen.append, batch_size=2)
    assert seen == results and len(results) == 7
    assert isinstance(results[2], Skipped) and results[2].path == str(bad)
    assert "not an image" in results[2].reason
    assert isinstance(results[-1], Skipped) and "missing.png" in results[-1].path
    good = [r for r in results if not isinstance(r, Skipped)]
    assert [r.path for r in good] == [str(x) for x in paths if x not in (bad, paths[-1])]
    single = p.predict(paths[4])  # batching gives the same answer as one at a time
    assert results[4].probs == pytest.approx(single.probs, abs=1e-5)
    with pytest.raises(BadImage, match="broken.jpg"):
        p.predict(bad)


def test_predict_many_can_be_cancelled(tmp_path):
    p = Predictor.from_path(
        save_tiny_model(tmp_path / "m.pt", "classification", class_names=CLASSES)
    )
    control = RunControl()
    control.cancel()
    with pytest.raises(Cancelled):
        p.predict_many([_image(tmp_path / "a.png")], control=control)


def test_project_folder_and_bad_model_files(tmp_path):
    project = tmp_path / "proj"
    (project / "models").mkdir(parents=True)
    with pytest.raises(ModelFileError, match="has no trained model yet"):
        Predictor.from_path(project)
    save_tiny_model(project / "models" / "last.pt", "classification", class_names=CLASSES)
    assert Predictor.from_path(project).source.endswith("last.pt")
    save_tiny_model(project / "models" / "best.pt", "classification", class_names=CLASSES)
    assert Predictor.from_path(project).source.endswith("best.pt")

    with pytest.raises(ModelFileError, match="not found"):
        Predictor.from_path(tmp_path / "nope.pt")
    junk = tmp_path / "junk.pt"
    junk.write_text("hello")
    with pytest.raises(ModelFileError, match="junk.pt is not a readable"):
        Predictor.from_path(junk)
    import torch

    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ModelFileError, match="not a Topdown model"):
        Predictor.from_path(tmp_path / "other.pt")
    ckpt = torch.load(project / "models" / "best.pt", weights_only=True)
    ckpt["n_outputs"] = 7  # state no longer fits the network it claims
    torch.save(ckpt, tmp_path / "mismatch.pt")
    with pytest.raises(ModelFileError, match="mismatch.pt cannot be loaded"):
        Predictor.from_path(tmp_path / "mismatch.pt")

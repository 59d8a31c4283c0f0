"""Device choice, description, mixed precision and CPU threads."""

from __future__ import annotations

import pytest
import torch

from engine import devices as D


def test_auto_follows_what_the_machine_has():
    dev = D.pick_device("auto")
    if torch.cuda.is_available():
        assert dev.type == "cuda"
    elif D._mps_available():
        assert dev.type == "mps"
    else:
        assert dev.type == "cpu"
    assert D.pick_device("cpu").type == "cpu"


def test_cuda_asked_but_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(D.DeviceError, match="CUDA .* not available.*'cpu'"):
        D.pick_device("cuda")
    with pytest.raises(D.DeviceError, match="CUDA"):
        D.describe_device("cuda")
    assert D.pick_device("auto").type in ("cpu", "mps")
    with pytest.raises(D.DeviceError, match="Unknown device 'tpu'"):
        D.pick_device("tpu")


def test_cpu_description_names_cores_and_suggests_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(D, "_mps_available", lambda: False)
    info = D.describe_device("auto")
    assert info.kind == "cpu"
    assert info.name == f"CPU ({D.cpu_cores()} core{'s' if D.cpu_cores() != 1 else ''})"
    assert "10-50x" in info.hint


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_gpu_description_names_the_card():
    info = D.describe_device("cuda")
    assert info.kind == "cuda" and torch.cuda.get_device_name(0) in info.name
    assert D.device_label("cuda").startswith("cuda:0 (")


def test_amp_dtype(monkeypatch):
    assert D.amp_dtype("cpu") is None and not D.needs_grad_scaler("cpu")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert D.amp_dtype("cuda") is torch.bfloat16 and not D.needs_grad_scaler("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert D.amp_dtype("cuda") is torch.float16 and D.needs_grad_scaler("cuda")


def test_set_cpu_threads_leaves_one_core(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setattr(D, "cpu_cores", lambda: 4)
        assert D.set_cpu_threads(True) == 3 and torch.get_num_threads() == 3
        assert D.set_cpu_threads(False) == 4 and torch.get_num_threads() == 4
        monkeypatch.setattr(D, "cpu_cores", lambda: 1)
        assert D.set_cpu_threads(True) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)

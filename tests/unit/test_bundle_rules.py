"""The installer's cut list (packaging/bundle_rules.py) never removes a library torch loads:
neither one it links (DT_NEEDED) nor one torch preloads by name, nor torchvision's extensions."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "packaging"))
import bundle_rules  # noqa: E402

SITE = bundle_rules.site_packages_of("torch")
NVIDIA = SITE / "nvidia"
needs_cuda_wheel = pytest.mark.skipif(
    not NVIDIA.is_dir() or not sys.platform.startswith("linux"),
    reason="the CUDA torch wheel on Linux (nvidia/ libraries) is what the cut list is about",
)


def test_cut_patterns_hit_what_they_mean_and_nothing_else():
    assert bundle_rules.is_cut("triton/backends/nvidia/bin/ptxas")
    assert bundle_rules.is_cut("torch/include/ATen/ATen.h")
    assert bundle_rules.is_cut("nvidia/cu13/lib/libnvblas.so.13")
    assert bundle_rules.is_cut("torch/share/cmake/Torch/TorchConfig.cmake")
    for kept in (
        "torch/lib/libtorch_cuda.so",
        "nvidia/cudnn/lib/libcudnn_engines_precompiled.so.9",
        "nvidia/cu13/lib/libnvrtc-builtins.so.13.0",
        "nvidia/cu13/lib/libcusolver.so.12",
        "torch/bin/torch_shm_manager",
        "torchvision/_C_stable.so",
    ):
        assert not bundle_rules.is_cut(kept), kept


@needs_cuda_wheel
@pytest.mark.skipif(shutil.which("readelf") is None, reason="needs readelf (binutils)")
def test_no_library_that_torch_links_is_cut():
    libs = [*(SITE / "torch" / "lib").glob("*.so*"), *NVIDIA.rglob("*.so*")]
    by_name = {p.name: p.relative_to(SITE).as_posix() for p in NVIDIA.rglob("*.so*")}
    cut = []
    for lib in libs:
        if bundle_rules.is_cut(lib.relative_to(SITE).as_posix()):
            continue
        out = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True).stdout
        for dep in re.findall(r"\(NEEDED\).*\[(.+)\]", out):
            if dep in by_name and bundle_rules.is_cut(by_name[dep]):
                cut.append(f"{lib.name} needs {dep}")
    assert not cut, cut


@needs_cuda_wheel
def test_no_library_torch_preloads_is_cut():
    src = (SITE / "torch" / "__init__.py").read_text(encoding="utf-8")
    patterns = re.findall(r'\("\w+", "(lib[\w.\-*\[\]]+)"\)', src)
    assert len(patterns) >= 10, "torch's preload list was not found"
    found = [p for pat in patterns for p in NVIDIA.rglob(pat)]
    assert found
    assert not [p for p in found if bundle_rules.is_cut(p.relative_to(SITE).as_posix())]


def test_torchvision_stable_abi_libraries_are_added():
    dests = {Path(src).name: dest for src, dest in bundle_rules.torchvision_libraries(SITE)}
    assert any(n.startswith("_C") for n in dests), dests  # without it: no torchvision::nms
    assert set(dests.values()) == {"torchvision"}

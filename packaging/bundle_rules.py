"""What goes into the PyInstaller bundle and what is cut, shared by topdown.spec and build.py.

Cuts are only what the app provably never loads: triton (torch.compile only; Topdown never
compiles), headers, static libraries, CMake files, test folders, and the few NVIDIA libraries
that no torch/torchvision/NVIDIA library names (neither as a dependency nor as a dlopen
string) and torch's Python code does not preload. Every CUDA library torch loads at run time
stays, including the lazily loaded ones (cuDNN's engine libraries, nvrtc-builtins, cusolver):
build.py checks that after each build.
"""

from __future__ import annotations

import fnmatch
import sys
from pathlib import Path

# Python packages the module graph would drag in through torch's optional imports, none of
# which Topdown's code paths import.
EXCLUDED_MODULES = [
    "triton",  # torch.compile backend only (897 MB with its CUDA toolchain)
    "tkinter",
    "_tkinter",
    "matplotlib",
    "IPython",
    "jedi",
    "pandas",
    "scipy",
    "sklearn",
    "skimage",
    "tensorboard",
    "pytest",
    "_pytest",
    "hypothesis",
    "pytest_benchmark",
    "boto3",
    "botocore",
    "moto",
    "docker",
    "flask",
    "cuda",  # cuda-python bindings (torch uses them only for optional tooling)
    # Only torch.utils.cpp_extension imports setuptools (building C++ extensions, which needs a
    # compiler and the headers cut below); PyInstaller's setuptools runtime hook would import it
    # at every start (~0.25 s here). ONNX export and TorchScript work without it.
    "setuptools",
    "pkg_resources",
    "_distutils_hack",
]

# Paths (inside the bundle's _internal folder, '/' separators) that are never loaded.
CUT_PATTERNS = [
    "triton/*",
    "*/include/*",  # C/C++ headers (torch, nvidia, numpy)
    "*.h",
    "*.hpp",
    "*.cuh",
    "*.a",  # static libraries: nothing links at run time
    "*.lib",
    "torch/share/*",  # CMake package files for C++ builds
    "torch/bin/protoc*",  # the protobuf compiler, for building with torch
    "*/tests/*",
    "*/test/*",
    # NVIDIA libraries nothing references (checked with `grep -a` over every torch,
    # torchvision and NVIDIA library and torch's preload list in torch/__init__.py):
    "nvidia/cu13/lib/libnvblas.so*",  # BLAS interposer, meant for LD_PRELOAD
    "nvidia/cu13/lib/libcufftw.so*",  # FFTW-compatible API; torch calls cuFFT directly
    "nvidia/cu13/lib/libcusolverMg.so*",  # multi-GPU cuSOLVER; torch uses libcusolver
    "nvidia/cu13/lib/libnvrtc.alt.so*",  # alternative NVRTC build; torch links libnvrtc
    "nvidia/cu13/lib/libnvrtc-builtins.alt.so*",  # used only by libnvrtc.alt
    "nvidia/cu13/lib/libcheckpoint.so*",  # CUDA checkpoint tool library
    "nvidia/cu13/lib/libpcsamplingutil.so*",  # CUPTI PC-sampling sample utility
    "nvidia/cu13/lib/libnvperf_target.so*",  # profiler target side, not referenced
    "nvidia/cu13/lib/libnvtx3interop.so*",
]

# Libraries that bundled code links against but that only the user's system can provide: the
# NVIDIA driver, and the optional multi-node transports (RDMA, MPI, UCX, libfabric) of NCCL's
# nvshmem and cuFile, which load only where those exist. A pip install lacks them the same way.
SYSTEM_PROVIDED = {
    "libcuda.so.1": "the NVIDIA driver",
    **{
        name: "an optional multi-node transport"
        for name in (
            "libmlx5.so.1",
            "librdmacm.so.1",
            "libibverbs.so.1",
            "libmpi.so.40",
            "libpmix.so.2",
            "liboshmem.so.40",
            "libfabric.so.1",
            "libucs.so.0",
            "libucp.so.0",
        )
    },
}


def is_cut(dest: str) -> bool:
    """Whether a bundle path (relative to _internal) matches a cut pattern."""
    dest = dest.replace("\\", "/")
    return any(fnmatch.fnmatch(dest, pat) for pat in CUT_PATTERNS)


def site_packages_of(module_name: str) -> Path:
    """The site-packages folder holding `module_name` (e.g. torch)."""
    import importlib.util

    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.origin:
        raise RuntimeError(f"{module_name} is not installed")
    return Path(spec.origin).resolve().parent.parent


def nvidia_libraries(site_packages: Path) -> list[tuple[str, str]]:
    """Every shared library of the NVIDIA wheels torch depends on, as (source, dest folder)
    with the site-packages layout kept (torch's RPATH is $ORIGIN/../../nvidia/*/lib)."""
    if not sys.platform.startswith("linux"):
        return []  # Windows wheels carry their CUDA DLLs in torch/lib; macOS has no CUDA
    root = site_packages / "nvidia"
    out = []
    for lib in sorted(root.rglob("*.so*")) if root.is_dir() else []:
        rel = lib.relative_to(site_packages).as_posix()
        if lib.is_file() and not is_cut(rel):
            out.append((str(lib), str(Path(rel).parent)))
    return out


def torchvision_libraries(site_packages: Path) -> list[tuple[str, str]]:
    """torchvision 0.29's stable-ABI extensions, which its PyInstaller hook misses (without
    them: `operator torchvision::nms does not exist`)."""
    tv = site_packages / "torchvision"
    pats = ("_C_stable*", "image_stable*", "_C.*", "image.*")
    found = {p for pat in pats for p in tv.glob(pat) if p.suffix in (".so", ".pyd", ".dylib")}
    return [(str(p), "torchvision") for p in sorted(found)]

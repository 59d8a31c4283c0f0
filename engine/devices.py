"""Which device to compute on (CUDA > Apple MPS > CPU), how to describe it, and mixed precision.

torch is imported inside the functions so the GUI can import this module at start-up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from engine.errors import DeviceError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


@dataclass(frozen=True)
class DeviceInfo:
    kind: str  # "cuda" | "mps" | "cpu"
    name: str  # e.g. "NVIDIA H200" or "CPU (8 cores)"
    hint: str  # one sentence for the user ("" when nothing to say)


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps and mps.is_available())


def pick_device(pref: str = "auto") -> Any:
    """A torch.device for `pref` ("auto", "cpu", "cuda", "cuda:1", "mps"); clear error if absent."""
    import torch

    pref = (pref or "auto").strip().lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref == "cpu":
        return torch.device("cpu")
    if pref.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "CUDA (an NVIDIA GPU) was asked for but is not available: no NVIDIA GPU, no "
                "driver, or a CPU-only PyTorch. Choose 'auto' or 'cpu'."
            )
        dev = torch.device(pref)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise DeviceError(
                f"GPU {dev.index} was asked for, but this computer has "
                f"{torch.cuda.device_count()} CUDA device(s)."
            )
        return dev
    if pref == "mps":
        if not _mps_available():
            raise DeviceError(
                "MPS (Apple GPU) was asked for but is not available. Choose 'auto' or 'cpu'."
            )
        return torch.device("mps")
    raise DeviceError(f"Unknown device {pref!r}; choose one of {', '.join(DEVICE_CHOICES)}.")


def cpu_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def describe_device(pref: str = "auto") -> DeviceInfo:
    """What `pick_device(pref)` gives, in words for the user (errors propagate as DeviceError)."""
    import torch

    dev = pick_device(pref)
    if dev.type == "cuda":
        idx = dev.index if dev.index is not None else torch.cuda.current_device()
        props = torch.cuda.get_device_properties(idx)
        mem = props.total_memory / 2**30
        return DeviceInfo("cuda", f"{props.name} ({mem:.0f} GB)", "")
    if dev.type == "mps":
        return DeviceInfo("mps", "Apple GPU (MPS)", "")
    n = cpu_cores()
    hint = (
        "No GPU found: training runs on the CPU. A GPU trains about 10-50x faster; on a CPU "
        "prefer small models (resnet18, mobilenet) and small images (128 px)."
    )
    return DeviceInfo("cpu", f"CPU ({n} core{'s' if n != 1 else ''})", hint)


def device_label(device: Any) -> str:
    """Short text for events/logs, e.g. "cpu" or "cuda:0 (NVIDIA H200)"."""
    import torch

    dev = torch.device(device)
    if dev.type == "cuda":
        idx = dev.index if dev.index is not None else torch.cuda.current_device()
        return f"cuda:{idx} ({torch.cuda.get_device_name(idx)})"
    return dev.type


def amp_dtype(device: Any) -> Any:
    """Mixed-precision dtype: bfloat16 where the GPU supports it, else float16 (which needs a
    GradScaler), None on CPU/MPS (train in float32)."""
    import torch

    dev = torch.device(device)
    if dev.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def needs_grad_scaler(device: Any) -> bool:
    import torch

    return amp_dtype(device) is torch.float16


def set_cpu_threads(leave_one_core: bool) -> int:
    """Set torch's intra-op threads: all cores, or cores-1 (at least 1) while the GUI is live."""
    import torch

    n = cpu_cores()
    n = max(1, n - 1) if leave_one_core else max(1, n)
    n = max(1, n // int(os.environ.get("LOCAL_WORLD_SIZE", "1")))  # torchrun: share the cores
    torch.set_num_threads(n)
    return n

"""Stand-in timm weight files for tests (no network here): a random state dict with the layout of
timm's published file for a model (its 1000-class head), saved where a user would put it."""

from __future__ import annotations

from pathlib import Path


def timm_state(name: str, seed: int = 0) -> dict:
    """A random state dict shaped like timm's pretrained file for `name`."""
    import torch

    from engine.models.timm_models import reference_state

    torch.manual_seed(seed)
    return reference_state(name)


def save_timm_state(name: str, path: str | Path, seed: int = 0, rename=None) -> Path:
    """Save `timm_state(name)` to `path` (`.safetensors` or torch.save); `rename(key)` gives the
    keys other names (another package's layout of the same tensors)."""
    import torch

    state = timm_state(name, seed)
    if rename is not None:
        state = {rename(k): v for k, v in state.items()}
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in state.items()}, str(p))
    else:
        torch.save(state, p)
    return p

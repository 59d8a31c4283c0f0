"""Stand-in pretrained weights for tests (no network on the test machines).

`install_fake_weights(arch)` saves a randomly initialised state dict, shaped exactly like
torchvision's file for that architecture, under the real file name in
`$TORCH_HOME/hub/checkpoints/`, and records it as verified just as a successful hash check
would. Everything after that - finding, loading, key matching - runs the real code path.
"""

from __future__ import annotations

from pathlib import Path


def pretrained_state(arch: str) -> dict:
    """A random state dict with the layout of torchvision's pretrained file for `arch`."""
    import torch
    from torchvision import models
    from torchvision.models import get_weight, segmentation

    from engine.models.registry import ARCHITECTURES

    spec = ARCHITECTURES[arch]
    w = get_weight(spec.weights_id)
    n = len(w.meta["categories"])
    torch.manual_seed(0)
    if arch.startswith("unet_"):  # the encoder's file: a plain torchvision resnet
        net = getattr(models, arch.removeprefix("unet_"))(weights=None, num_classes=n)
    elif spec.kind == "segmentation":
        kwargs = {"weights": None, "weights_backbone": None, "num_classes": n}
        if not arch.startswith("lraspp"):
            kwargs["aux_loss"] = True  # torchvision's files carry the aux head
        net = getattr(segmentation, arch)(**kwargs)
    else:
        net = getattr(models, arch)(weights=None, num_classes=n)
    return net.state_dict()


def install_fake_weights(arch: str) -> Path:
    """Write the fake pretrained file for `arch` where torchvision would cache it; return path."""
    import torch

    from engine.models.registry import ARCHITECTURES
    from engine.models.weights import mark_verified, pretrained_file

    path, _url = pretrained_file(ARCHITECTURES[arch])
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(pretrained_state(arch), path)
    mark_verified(path)
    return path


def save_tiny_model(
    path: str | Path,
    task: str,
    arch: str = "resnet18",
    class_names: tuple[str, ...] = (),
    targets: tuple[str, ...] = (),
    image_size: int = 32,
    tweak=None,
    threshold: float = 0.5,
) -> Path:
    """Save an untrained model in the checkpoint format of engine/models/checkpoint.py (train-free).

    `tweak(bundle)` may set weights first (e.g. a head bias that makes the answer known).
    """
    import torch

    from engine.models.registry import build_model

    n = len(targets) if task == "regression" else len(class_names)
    torch.manual_seed(0)
    bundle = build_model(arch, task, n, weights="none")
    if tweak is not None:
        with torch.no_grad():
            tweak(bundle)
    ckpt = {
        "format": "topdown-model",
        "version": 1,
        "task": task,
        "arch": arch,
        "class_names": list(class_names),
        "targets": list(targets),
        "n_outputs": n,
        "image_size": image_size,
        "mean": list(bundle.mean),
        "std": list(bundle.std),
        "model_state": bundle.model.state_dict(),
        "epoch": 0,
        "config": {},
        "metrics": {},
        "history": [],
        "multilabel_threshold": threshold,
    }
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    torch.save(ckpt, p)
    return p

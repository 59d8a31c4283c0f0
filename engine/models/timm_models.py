"""Networks from timm (pytorch-image-models) beside torchvision's: a short curated list plus any
name timm knows, for every task.

Names: `timm/<model>` is a classification / multi-label / regression network (timm's own head,
`timm.create_model(model, num_classes=n)`), `timm-unet/<model>` a U-Net on that model's
feature maps (engine.models.timm_unet) for segmentation. A bare timm name (`--arch
tf_efficientnet_lite0`) means the one that fits the project's task; torchvision's names keep
their meaning (`resnet18` is torchvision's, `timm/resnet18` timm's).

Each model brings its own preprocessing from its pretrained config (mean, std, input size,
interpolation), its own stages for discriminative learning rates (timm's group matcher), and its
last feature map (`forward_features`) for Grad-CAM. timm imports inside the functions only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

IMAGE_PREFIX = "timm/"
SEG_PREFIX = "timm-unet/"


@dataclass(frozen=True)
class Curated:
    name: str  # timm model name
    params_m: float  # parameters (millions) with timm's 1000-class head
    # CPU training speed in words, from one rough measurement (fwd + bwd + AdamW, batch 16,
    # 128 px, 2 threads, machine load 8: images/s 2.3 small, 1.8 resnet18, 1.7 large, 1.5 lite0,
    # 1.0 efficientnet_b0, 0.8 convnext_nano; resnet50 did not finish in the time)
    speed: str
    use: str  # when to use it
    tag: str  # timm's default pretrained tag (the weights `imagenet` means)
    seg: bool = False  # also offered as a U-Net encoder for segmentation


# fast / small first; the params are timm's (1000 classes), the file size about 4 bytes each
CURATED: tuple[Curated, ...] = (
    Curated(
        "mobilenetv3_small_100",
        2.5,
        "very fast on a CPU",
        "quick tries, slow computers",
        "lamb_in1k",
    ),
    Curated(
        "tf_efficientnet_lite0",
        4.7,
        "fast on a CPU",
        "photos on a laptop: accurate for its size",
        "in1k",
        seg=True,
    ),
    Curated(
        "mobilenetv3_large_100",
        5.5,
        "fast on a CPU",
        "a laptop CPU, a little more accuracy",
        "ra_in1k",
        seg=True,
    ),
    Curated("efficientnet_b0", 5.3, "moderate on a CPU", "accurate for its size", "ra_in1k"),
    Curated(
        "resnet18",
        11.7,
        "fast on a CPU",
        "a reliable all-rounder (timm's weights)",
        "a1_in1k",
        seg=True,
    ),
    Curated(
        "convnext_nano",
        15.6,
        "slow on a CPU",
        "a modern, accurate network; with a GPU",
        "in12k_ft_in1k",
    ),
    Curated(
        "resnet50",
        25.6,
        "slow on a CPU",
        "accurate; with a GPU and thousands of images",
        "a1_in1k",
    ),
)


def curated_line(c: Curated) -> str:
    """One line for a beginner: size, CPU speed, when to use."""
    return f"{c.params_m:g} M parameters ({round(c.params_m * 4)} MB) · {c.speed} · {c.use}."


def known(name: str) -> bool:
    """Whether timm can build `name` (a model name, optionally with a .tag)."""
    import timm

    return bool(name) and timm.is_model(name.split(".", 1)[0])


def all_names() -> list[str]:
    """Every model name timm can build (for the GUI's searchable list)."""
    import timm

    return list(timm.list_models())


def model_name(arch: str) -> str:
    """`timm/x` or `timm-unet/x` -> `x`."""
    for prefix in (SEG_PREFIX, IMAGE_PREFIX):
        if arch.startswith(prefix):
            return arch[len(prefix) :]
    return arch


def create(name: str, **kwargs: Any) -> Any:
    """timm.create_model without any download (weights come through engine.models.weights)."""
    import timm

    return timm.create_model(name, pretrained=False, **kwargs)


def pretrained_cfg(name: str) -> Any:
    """timm's pretrained config for `name` (its default tag when none is given), or None."""
    from timm.models import get_pretrained_cfg

    return get_pretrained_cfg(name)


def preprocessing(name: str) -> tuple[tuple[float, ...], tuple[float, ...], int, str]:
    """(mean, std, input size, interpolation) the model's pretrained weights expect."""
    cfg = pretrained_cfg(name)
    if cfg is None:  # a model without pretrained weights: timm's defaults
        from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

        return tuple(IMAGENET_DEFAULT_MEAN), tuple(IMAGENET_DEFAULT_STD), 224, "bicubic"
    mean = tuple(float(v) for v in cfg.mean)
    std = tuple(float(v) for v in cfg.std)
    interp = cfg.interpolation if cfg.interpolation in ("bilinear", "bicubic") else "bilinear"
    return mean, std, int(cfg.input_size[-1]), interp


def weights_url(name: str) -> tuple[str, str]:
    """(URL of the pretrained file timm would fetch, file name to keep it under)."""
    cfg = pretrained_cfg(name)
    if cfg is None or not (cfg.hf_hub_id or cfg.url):
        raise ValueError(f"timm has no pretrained weights for {name}.")
    if cfg.hf_hub_id:
        url = f"https://huggingface.co/{cfg.hf_hub_id}/resolve/main/model.safetensors"
        return url, cfg.hf_hub_id.split("/")[-1] + ".safetensors"
    return cfg.url, cfg.url.rsplit("/", 1)[-1]


def hf_cached_file(name: str) -> str | None:
    """The file timm itself downloaded earlier into the Hugging Face cache, if any."""
    cfg = pretrained_cfg(name)
    if cfg is None or not cfg.hf_hub_id:
        return None
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    for fname in ("model.safetensors", "pytorch_model.bin"):
        found = try_to_load_from_cache(cfg.hf_hub_id, fname)
        if isinstance(found, str):
            return found
    return None


def reset_head(head: list) -> None:
    """PyTorch's default init for the new head's Linear / conv layers (as torchvision's heads get
    here). timm's EfficientNet / MobileNet init draws a classifier from +-1/sqrt(n_classes)
    (+-0.5 for 4 classes): on tf_efficientnet_lite0's ImageNet features the first logits then
    have a std of about 4.9 and the first loss is about 5; with this init, about 0.4."""
    from torch import nn

    for m in head:
        for layer in m.modules():
            if isinstance(layer, (nn.Linear, nn.Conv2d)):
                layer.reset_parameters()


def stage_groups(model: Any, head_params: list) -> list[list] | None:
    """Body parameters by the model's own stages, input side first (timm's group matcher,
    coarse: stem, then one group per stage), without the head; None when timm has none."""
    from timm.models import group_parameters

    matcher = getattr(model, "group_matcher", None)
    if matcher is None:
        return None
    try:
        groups = group_parameters(model, matcher(coarse=True))
    except (NotImplementedError, AttributeError, TypeError):
        return None
    named = dict(model.named_parameters())
    head_ids = {id(p) for p in head_params}
    out = []
    for key in sorted(groups):
        params = [named[n] for n in groups[key] if n in named and id(named[n]) not in head_ids]
        if params:
            out.append(params)
    return out or None


def reference_state(name: str) -> dict:
    """The state dict layout of timm's full classification model (as its files are saved)."""
    cfg = pretrained_cfg(name)
    n = int(getattr(cfg, "num_classes", 1000) or 1000) if cfg is not None else 1000
    return create(name, num_classes=n).state_dict()

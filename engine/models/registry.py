"""Architecture registry and model building (pretrained body + new head, sized to the task).

Importing this module is cheap: torch and torchvision load only inside `build_model`, so the
GUI can list architectures at start-up. Adding an architecture is one `_register(...)` call
with a builder that returns the model and its new (randomly initialised) head modules.

Frozen training: `freeze_body()` sets requires_grad=False on every body parameter (BatchNorm
affine parameters included), so autograd records nothing inside the body and backward runs
through the head only. Body BatchNorm layers stay in train mode, as in fastai, so their running
statistics adapt to the new images while the weights stay fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TASK_KIND = {
    "classification": "image",
    "multilabel": "image",
    "regression": "image",
    "segmentation": "segmentation",
}
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class Built:
    """What a builder returns: the model, the part pretrained files load into, the new head."""

    model: Any  # nn.Module producing the task's output tensor
    core: Any  # nn.Module whose keys match torchvision's weight file
    head: list  # modules that are new / sized to the task
    ignore_prefixes: tuple[str, ...] = ()  # keys of the weight file that are not used
    stages: list | None = None  # body parameters by the model's own stages (input side first)
    # (mean, std, input size, interpolation) of the model's own pretrained config, if it has one
    prep: tuple | None = None
    # the layout (name -> tensor) of the network's published weight files, when it differs from
    # `core`'s (timm U-Net: the full classifier), for mapping files whose names differ
    reference: Callable[[], dict] | None = None


@dataclass(frozen=True)
class ArchSpec:
    name: str
    kind: str  # "image" | "segmentation"
    description: str  # one line for a beginner: speed, size, when to use
    params_m: float  # parameters (millions) of the pretrained network
    weights_id: str  # torchvision weights enum, e.g. "ResNet18_Weights.IMAGENET1K_V1"
    builder: Callable[[int], Built] = field(repr=False, compare=False)
    pretrained_on: str = "ImageNet"
    source: str = "torchvision"  # "torchvision" | "timm"


ARCHITECTURES: dict[str, ArchSpec] = {}


def _register(spec: ArchSpec) -> None:
    ARCHITECTURES[spec.name] = spec


def architectures_for(task: str) -> list[ArchSpec]:
    """Architectures usable for a project task, in the registry's order (fast/small first)."""
    kind = _kind(task)
    return [s for s in ARCHITECTURES.values() if s.kind == kind]


def resolve_arch(arch: str, task: str | None = None) -> str:
    """The registry name for `arch`: a registered name as it is; any timm model name (bare, or
    `timm/x`, `timm-unet/x`) as `timm/x` for image tasks and `timm-unet/x` for segmentation
    (`task` decides; without one the prefix, else image). ValueError for an unknown name."""
    from engine.models import timm_models as tm

    arch = str(arch).strip()
    if arch in ARCHITECTURES and (task is None or ARCHITECTURES[arch].kind == _kind(task)):
        return arch
    name = tm.model_name(arch)
    if arch not in ARCHITECTURES and not tm.known(name):
        raise ValueError(
            f"Unknown architecture {arch!r}: neither one of {', '.join(ARCHITECTURES)} nor a "
            "model timm knows (see timm.list_models())."
        )
    if arch in ARCHITECTURES:  # a registered name of the other kind: say what fits
        return arch
    kind = _kind(task) if task else ("segmentation" if arch.startswith(tm.SEG_PREFIX) else "image")
    return (tm.SEG_PREFIX if kind == "segmentation" else tm.IMAGE_PREFIX) + name


def fitting_arch(arch: str, task: str) -> str | None:
    """The registry name of `arch` for `task` (any timm model name too); None when it is
    unknown or of the other kind (a classifier for a segmentation project, say)."""
    try:
        name = resolve_arch(arch, task)
        return name if arch_spec(name).kind == _kind(task) else None
    except ValueError:
        return None


_TIMM_SPECS: dict[str, ArchSpec] = {}


def arch_spec(arch: str, task: str | None = None) -> ArchSpec:
    """The registry entry of `arch` (any timm name too, see `resolve_arch`); ValueError naming
    the known ones if there is none."""
    name = resolve_arch(arch, task)
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    if name not in _TIMM_SPECS:
        _TIMM_SPECS[name] = _timm_spec(name)
    return _TIMM_SPECS[name]


def weights_status(arch: str, weights: str = "imagenet", task: str | None = None) -> Any:
    """Whether `build_model(arch, ..., weights)` will find its weights, without downloading:
    an engine.models.weights.WeightsStatus(available, path, url, message)."""
    from engine.models import weights as wmod

    return wmod.status_for(arch_spec(arch, task), weights)


def default_arch(task: str) -> str:
    """resnet18 for image-level tasks; the resnet18 U-Net for segmentation (best on few images)."""
    return "unet_resnet18" if _kind(task) == "segmentation" else "resnet18"


def _kind(task: str) -> str:
    if task not in TASK_KIND:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASK_KIND)}.")
    return TASK_KIND[task]


@dataclass
class ModelBundle:
    """A model split into a pretrained body and a new head, plus its preprocessing."""

    model: Any
    body: list
    head: list
    arch: str
    task: str
    n_outputs: int
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    resize: int = 224  # the input size the pretrained weights were trained at
    interpolation: str = "bilinear"  # resampling of the resize to the training size
    stages: list | None = None  # body parameters by the model's own stages, if known
    pretrained: bool = False  # True when the body came from a weights file
    weights_source: str = "none"  # file the body was loaded from, or "none"

    def head_parameters(self) -> list:
        return [p for m in self.head for p in m.parameters()]

    def body_parameters(self) -> list:
        head_ids = {id(p) for p in self.head_parameters()}
        return [p for p in self.model.parameters() if id(p) not in head_ids]

    def param_groups(self, n_body_groups: int | None = None) -> list[list]:
        """Parameters from the earliest layers to the head (for discriminative learning rates).

        With the model's own stages (timm's group matcher) and no `n_body_groups`: one group per
        stage, then the head. Otherwise the body, in the model's own order (input side first),
        is cut into `n_body_groups` (default 2) slices of equal tensor count; the head last.
        """
        if self.stages and n_body_groups is None:
            return [list(g) for g in self.stages] + [self.head_parameters()]
        n_body_groups = 2 if n_body_groups is None else n_body_groups
        body = self.body_parameters()
        n = max(1, min(n_body_groups, len(body)))
        cuts = [round(i * len(body) / n) for i in range(n + 1)]
        groups = [body[cuts[i] : cuts[i + 1]] for i in range(n)]
        return [g for g in groups if g] + [self.head_parameters()]

    def freeze_body(self) -> None:
        """Train the head only: no gradients (and no backward pass) through the body."""
        for p in self.body_parameters():
            p.requires_grad_(False)
        for p in self.head_parameters():
            p.requires_grad_(True)

    def unfreeze(self) -> None:
        for p in self.model.parameters():
            p.requires_grad_(True)

    @property
    def frozen(self) -> bool:
        return not any(p.requires_grad for p in self.body_parameters())


def build_model(
    arch: str,
    task: str,
    n_outputs: int,
    weights: str = "imagenet",
    on_download: Callable | None = None,
) -> ModelBundle:
    """Build `arch` for `task` with `n_outputs` outputs (classes, labels, values).

    weights: "imagenet" (alias "pretrained": torchvision's pretrained file for this arch,
    downloaded once and cached), "none" (train from scratch), or a path to a local weights file
    (a state dict or a Topdown checkpoint). Raises `engine.models.weights.WeightsUnavailable` /
    `WeightsError` with a message naming the file when weights cannot be had.
    """
    from engine.models import weights as wmod

    spec = arch_spec(arch, task)
    arch = spec.name
    if spec.kind != _kind(task):
        names = ", ".join(s.name for s in architectures_for(task))
        raise ValueError(f"{arch} does not fit a {task} project; choose one of: {names}.")
    if int(n_outputs) < 1:
        raise ValueError(f"n_outputs must be at least 1 (got {n_outputs}).")

    built = spec.builder(int(n_outputs))
    bundle = ModelBundle(
        model=built.model,
        body=_body_modules(built.model, built.head),
        head=list(built.head),
        arch=arch,
        task=task,
        n_outputs=int(n_outputs),
        stages=built.stages,
    )
    if built.prep is not None:  # the model's own preprocessing, whatever the weights
        bundle.mean, bundle.std, bundle.resize, bundle.interpolation = built.prep
    if wmod.is_none(weights):
        return bundle
    state, source = wmod.load_state(spec, weights, on_download=on_download)
    wmod.apply_state(built, state, source)
    bundle.pretrained, bundle.weights_source = True, source
    if wmod.is_pretrained_name(weights) and built.prep is None:
        bundle.mean, bundle.std, bundle.resize = wmod.preprocessing(spec)
    return bundle


def _body_modules(model: Any, head: list) -> list:
    """Top-level children of `model` that hold no head module; containers of a head are opened."""
    head_ids = {id(m) for m in head}

    def contains_head(m: Any) -> bool:
        return any(id(x) in head_ids for x in m.modules())

    out: list = []

    def walk(m: Any) -> None:
        for child in m.children():
            if id(child) in head_ids:
                continue
            if contains_head(child):
                walk(child)
            elif any(True for _ in child.parameters()) or any(True for _ in child.buffers()):
                out.append(child)

    walk(model)
    return out


# ---- builders ------------------------------------------------------------------------------


def _tv_classifier(fn_name: str) -> Callable[[int], Built]:
    """torchvision classification net with its last Linear replaced by one sized to the task."""

    def build(n: int) -> Built:
        from torch import nn
        from torchvision import models

        model = getattr(models, fn_name)(weights=None)
        if hasattr(model, "fc"):  # resnets
            model.fc = nn.Linear(model.fc.in_features, n)
            head = [model.fc]
        else:  # mobilenet / efficientnet / convnext: Sequential ending in a Linear
            last = len(model.classifier) - 1
            model.classifier[last] = nn.Linear(model.classifier[last].in_features, n)
            head = [model.classifier[last]]
        return Built(model, model, head)

    return build


def _tv_segmenter(fn_name: str) -> Callable[[int], Built]:
    """torchvision segmentation net (no aux head) whose final class conv(s) fit n classes."""

    def build(n: int) -> Built:
        from torchvision.models import segmentation

        kwargs: dict = {"weights": None, "weights_backbone": None, "num_classes": n}
        if not fn_name.startswith("lraspp"):
            kwargs["aux_loss"] = False
        net = getattr(segmentation, fn_name)(**kwargs)
        if fn_name.startswith("lraspp"):
            head = [net.classifier.low_classifier, net.classifier.high_classifier]
        else:
            head = [net.classifier[len(net.classifier) - 1]]
        from engine.models.unet import SegmentationOutput

        return Built(SegmentationOutput(net), net, head, ignore_prefixes=("aux_classifier.",))

    return build


def _unet(depth: int) -> Callable[[int], Built]:
    def build(n: int) -> Built:
        from engine.models.unet import ResNetUNet

        model = ResNetUNet(depth, n)
        return Built(model, model.encoder, model.decoder_modules(), ignore_prefixes=("fc.",))

    return build


def _timm_classifier(name: str) -> Callable[[int], Built]:
    """timm model `name` with its own head sized to the task (timm.create_model num_classes)."""

    def build(n: int) -> Built:
        from engine.models import timm_models as tm

        model = tm.create(name, num_classes=n)
        head = [model.get_classifier()]
        tm.reset_head(head)
        return Built(
            model,
            model,
            head,
            stages=tm.stage_groups(model, [p for m in head for p in m.parameters()]),
            prep=tm.preprocessing(name),
            reference=lambda: tm.reference_state(name),
        )

    return build


def _timm_unet(name: str) -> Callable[[int], Built]:
    """U-Net on timm model `name`'s feature maps (engine.models.timm_unet)."""

    def build(n: int) -> Built:
        from engine.models import timm_models as tm
        from engine.models.timm_unet import TimmUNet

        model = TimmUNet(name, n)
        head = model.decoder_modules()
        head_params = [p for m in head for p in m.parameters()]
        stages = tm.stage_groups(model.encoder, head_params)
        return Built(
            model,
            model.encoder,
            head,
            stages=stages,
            prep=tm.preprocessing(name),
            reference=lambda: tm.reference_state(name),
        )

    return build


def _timm_spec(arch: str, description: str = "", params_m: float = 0.0, tag: str = "") -> ArchSpec:
    """An ArchSpec for `timm/x` or `timm-unet/x` (engine.models.timm_models). With `tag` (the
    curated list) timm is not imported here, so listing architectures stays cheap."""
    from engine.models import timm_models as tm

    name = tm.model_name(arch)
    seg = arch.startswith(tm.SEG_PREFIX)
    if not tag:
        cfg = tm.pretrained_cfg(name)
        tag = (getattr(cfg, "tag", "") or "") if cfg is not None else ""
    wid = f"timm/{name}.{tag}" if tag else ""
    desc = description or (f"U-Net on timm's {name}." if seg else f"timm's {name}.")
    return ArchSpec(
        arch,
        "segmentation" if seg else "image",
        desc,
        params_m,
        wid,
        _timm_unet(name) if seg else _timm_classifier(name),
        pretrained_on=f"ImageNet ({tag})" if tag else "ImageNet",
        source="timm",
    )


# ---- registry ------------------------------------------------------------------------------

# Grad-CAM target per image architecture (engine.interpret.gradcam): the module whose output is
# the last convolutional feature map before global pooling (NCHW). A test covers each entry.
CAM_LAYERS: dict[str, str] = {
    "resnet18": "layer4",
    "resnet34": "layer4",
    "resnet50": "layer4",
    "mobilenet_v3_small": "features",
    "mobilenet_v3_large": "features",
    "efficientnet_b0": "features",
    "convnext_tiny": "features",
}

for _name, _wid, _pm, _desc in [
    ("resnet18", "ResNet18_Weights.IMAGENET1K_V1", 11.7,
     "Fast and reliable; the best first choice for most image tasks (45 MB)."),
    ("resnet34", "ResNet34_Weights.IMAGENET1K_V1", 21.8,
     "A deeper ResNet: a bit more accurate, about twice as slow as resnet18 (83 MB)."),
    ("resnet50", "ResNet50_Weights.IMAGENET1K_V2", 25.6,
     "Accurate but slow on a CPU; use with a GPU and a few thousand images (98 MB)."),
    ("mobilenet_v3_small", "MobileNet_V3_Small_Weights.IMAGENET1K_V1", 2.5,
     "Tiny and very fast; good for quick experiments and slow computers (10 MB)."),
    ("mobilenet_v3_large", "MobileNet_V3_Large_Weights.IMAGENET1K_V2", 5.5,
     "Small and fast, more accurate than the small one; good on a laptop CPU (21 MB)."),
    ("efficientnet_b0", "EfficientNet_B0_Weights.IMAGENET1K_V1", 5.3,
     "Accurate for its size but slower to train than resnet18 on a CPU (20 MB)."),
    ("convnext_tiny", "ConvNeXt_Tiny_Weights.IMAGENET1K_V1", 28.6,
     "A modern, accurate network; slow without a GPU (109 MB)."),
]:  # fmt: skip
    _register(ArchSpec(_name, "image", _desc, _pm, _wid, _tv_classifier(_name)))

_register(
    ArchSpec(
        "unet_resnet18",
        "segmentation",
        "U-Net on resnet18: sharp masks, trains well on a few dozen images; the default (45 MB).",
        23.8,
        "ResNet18_Weights.IMAGENET1K_V1",
        _unet(18),
    )
)
_register(
    ArchSpec(
        "unet_resnet34",
        "segmentation",
        "U-Net on resnet34: a little more accurate than unet_resnet18, slower (83 MB).",
        33.9,
        "ResNet34_Weights.IMAGENET1K_V1",
        _unet(34),
    )
)
for _name, _wid, _pm, _desc in [
    ("lraspp_mobilenet_v3_large", "LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1",
     3.2, "Very fast and small, coarse edges; good for quick tries on a CPU (12 MB)."),
    ("deeplabv3_mobilenet_v3_large",
     "DeepLabV3_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1", 11.0,
     "DeepLabV3 on MobileNet: good masks at moderate speed (42 MB)."),
    ("deeplabv3_resnet50", "DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1", 42.0,
     "DeepLabV3 on ResNet-50: accurate, slow; use with a GPU (161 MB)."),
]:  # fmt: skip
    _register(ArchSpec(_name, "segmentation", _desc, _pm, _wid, _tv_segmenter(_name),
                       pretrained_on="COCO (VOC classes)"))  # fmt: skip

# timm's networks (engine.models.timm_models): the curated list; any other timm name is accepted
# too (arch_spec builds its entry on demand)
from engine.models import timm_models as _tm  # noqa: E402  (no timm import at module level)

for _c in _tm.CURATED:
    _register(_timm_spec(_tm.IMAGE_PREFIX + _c.name, _tm.curated_line(_c), _c.params_m, _c.tag))
for _c in _tm.CURATED:
    if _c.seg:
        _register(
            _timm_spec(
                _tm.SEG_PREFIX + _c.name,
                "U-Net on " + _tm.curated_line(_c),
                _c.params_m,
                _c.tag,
            )
        )

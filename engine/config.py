"""Training configuration: one dataclass, saved as JSON inside the project (training.json).

`epochs` is the total number of epochs; `freeze_epochs` of them (only when the body starts from
pretrained weights) train the head alone first. Files written before version 2 counted
`epochs` as the unfrozen epochs after the frozen ones and defaulted to `lr: null` (run the LR
finder before every training); `from_dict` reads them as the same total length, and their
unset "auto" rate as the new fixed default (the finder is a tool the user runs on purpose).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

CONFIG_VERSION = 2
DEFAULT_LR = 2e-3  # fastai fine_tune's base rate (see engine.training.recipe)


@dataclass
class TrainConfig:
    arch: str = "resnet18"  # registry name (engine.models.registry), or any timm model name
    weights: str = "imagenet"  # "imagenet" | "none" | path to a local weights file
    epochs: int = 5  # total epochs, frozen ones included
    freeze_epochs: int = 1  # of `epochs`, trained with a pretrained body frozen (0 from scratch)
    lr: float | None = DEFAULT_LR  # peak learning rate; None: the LR finder's suggestion
    image_size: int = 128
    batch_size: int = 32
    device: str = "auto"  # auto | cpu | cuda | mps
    valid_pct: float = 0.2
    test_pct: float = 0.0
    seed: int = 42
    label_smoothing: float = 0.0
    balance: str = "none"  # none | weighted_loss | sampler (engine.training.balance)
    flip: bool = True
    rotate: bool = True
    resized_crop: bool = True
    color_jitter: bool = False
    multilabel_threshold: float = 0.5
    early_stopping_patience: int = 0  # 0 = off
    weight_decay: float = 0.01
    num_workers: int = 0  # 0 is safest inside the GUI and in frozen apps
    cache_mb: int = 2048  # RAM cap for decoded, resized images
    mixed_precision: bool = True  # used on CUDA only
    channels_last: bool = True
    leave_one_core: bool = False  # set by the GUI so the UI thread keeps a core
    version: int = CONFIG_VERSION  # meaning of the fields; see the module docstring

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainConfig:
        """Build from saved JSON, ignoring unknown keys (older/newer versions)."""
        names = {f.name for f in fields(cls)}
        data = _upgrade(dict(data or {}))
        return cls(**{k: v for k, v in data.items() if k in names})


def _upgrade(data: dict) -> dict:
    """Version 1 -> 2: `epochs` becomes the total; the old default "auto" rate the fixed one."""
    if not data or int(data.get("version") or 1) >= CONFIG_VERSION:
        return data
    if "epochs" in data:
        data["epochs"] = int(data["epochs"]) + max(0, int(data.get("freeze_epochs", 1)))
    if "lr" in data and data["lr"] is None:
        data["lr"] = DEFAULT_LR
    data["version"] = CONFIG_VERSION
    return data

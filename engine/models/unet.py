"""U-Net on a pretrained ResNet encoder (the shape of fastai's `unet_learner`), and the wrapper
that makes torchvision's segmentation nets return a plain logits tensor.

Encoder: torchvision resnet18/34 (its `fc` replaced by Identity and unused), so torchvision's
ImageNet weight file loads into `model.encoder` unchanged. Decoder: a middle block, then one
upsampling block per encoder stage that concatenates the stage's activations (skip
connection), a last block that also sees the input image, and a 1x1 conv to n classes.
Output logits (N, n_classes, H, W) at exactly the input's H x W (odd sizes included).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F  # noqa: N812
from torch import nn


def _conv(cin: int, cout: int, k: int = 3) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=k // 2, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


def _icnr_(weight: torch.Tensor, scale: int = 2) -> None:
    """ICNR init: every sub-pixel starts equal, so PixelShuffle shows no checkerboard at first."""
    cout4, cin = weight.shape[:2]
    sub = torch.empty(cout4 // scale**2, cin, *weight.shape[2:])
    nn.init.kaiming_normal_(sub)
    with torch.no_grad():
        weight.copy_(sub.repeat_interleave(scale**2, dim=0))


class PixelShuffleUp(nn.Module):
    """x2 upsampling by a 1x1 conv + PixelShuffle (ICNR-initialised), as fastai does."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout * 4, 1)
        _icnr_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)
        self.shuffle = nn.PixelShuffle(2)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.shuffle(self.conv(x)))


class UpBlock(nn.Module):
    """Upsample, join the encoder's skip activations (batch-normed), two 3x3 convs."""

    def __init__(self, cin: int, skip: int, cout: int):
        super().__init__()
        self.up = PixelShuffleUp(cin, cin // 2)
        self.skip_bn = nn.BatchNorm2d(skip)
        self.convs = nn.Sequential(_conv(cin // 2 + skip, cout), _conv(cout, cout))

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = self.up(x)
        if x.shape[-2:] != skip.shape[-2:]:
            x = F.interpolate(x, size=skip.shape[-2:], mode="nearest")
        return self.convs(torch.cat([x, self.skip_bn(skip)], dim=1))


class ResNetUNet(nn.Module):
    def __init__(self, depth: int, n_classes: int):
        super().__init__()
        from torchvision import models

        if depth not in (18, 34):
            raise ValueError(f"U-Net supports resnet18 and resnet34 encoders, not resnet{depth}.")
        self.encoder = getattr(models, f"resnet{depth}")(weights=None)
        self.encoder.fc = nn.Identity()
        self.middle = nn.Sequential(_conv(512, 1024), _conv(1024, 512))
        self.up4 = UpBlock(512, 256, 256)  # /32 -> /16, joins layer3
        self.up3 = UpBlock(256, 128, 128)  # -> /8, joins layer2
        self.up2 = UpBlock(128, 64, 64)  # -> /4, joins layer1
        self.up1 = UpBlock(64, 64, 64)  # -> /2, joins the stem
        self.up0 = PixelShuffleUp(64, 32)  # -> /1
        self.last = nn.Sequential(_conv(32 + 3, 32), _conv(32, 32))  # sees the input image too
        self.final = nn.Conv2d(32, n_classes, 1)

    def decoder_modules(self) -> list[nn.Module]:
        """The new, randomly initialised part (the 'head' for freezing and learning rates)."""
        return [
            self.middle,
            self.up4,
            self.up3,
            self.up2,
            self.up1,
            self.up0,
            self.last,
            self.final,
        ]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e = self.encoder
        stem = e.relu(e.bn1(e.conv1(x)))  # /2, 64
        l1 = e.layer1(e.maxpool(stem))  # /4, 64
        l2 = e.layer2(l1)  # /8, 128
        l3 = e.layer3(l2)  # /16, 256
        l4 = e.layer4(l3)  # /32, 512
        y = self.middle(l4)
        y = self.up4(y, l3)
        y = self.up3(y, l2)
        y = self.up2(y, l1)
        y = self.up1(y, stem)
        y = self.up0(y)
        if y.shape[-2:] != x.shape[-2:]:
            y = F.interpolate(y, size=x.shape[-2:], mode="bilinear", align_corners=False)
        y = self.last(torch.cat([y, x], dim=1))
        return self.final(y)


class SegmentationOutput(nn.Module):
    """Unwraps torchvision's {"out": logits} dict so every model returns a tensor (N,C,H,W)."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)["out"]

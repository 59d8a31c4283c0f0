"""Batch-level steps on the device: uint8 -> normalised float, rotation and colour jitter.

A per-image rotation costs about 1 ms on a 2-core CPU (more than a light model's step per image);
one `grid_sample` over the whole batch costs a fraction of that, and runs on the GPU when there
is one. Masks rotate with their images (nearest neighbour, uncovered corners = ignore index).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as tf

from engine.project import IGNORE_INDEX

MAX_ROTATE_DEG = 10.0
ROTATE_P = 0.75
JITTER = 0.2  # brightness / contrast / saturation factors in [1 - JITTER, 1 + JITTER]


def rotate_batch(
    x: torch.Tensor,
    mask: torch.Tensor | None = None,
    max_deg: float = MAX_ROTATE_DEG,
    p: float = ROTATE_P,
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Rotate a random subset of the batch by a small random angle each (reflection padding)."""
    n = x.shape[0]
    chosen = torch.nonzero(torch.rand(n) < p).flatten()
    if chosen.numel() == 0:
        return x, mask
    ang = (torch.rand(chosen.numel()) * 2 - 1) * math.radians(max_deg)
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.zeros(chosen.numel(), 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 1, 0], theta[:, 1, 1] = cos, -sin, sin, cos
    theta = theta.to(x.device, x.dtype)
    chosen_d = chosen.to(x.device)
    sub = x.index_select(0, chosen_d)
    grid = tf.affine_grid(theta, list(sub.shape), align_corners=False)
    x = x.clone()
    x[chosen_d] = tf.grid_sample(
        sub, grid, mode="bilinear", padding_mode="reflection", align_corners=False
    )
    if mask is not None:
        m = (mask.index_select(0, chosen_d) + 1).to(x.dtype).unsqueeze(1)
        m = tf.grid_sample(m, grid, mode="nearest", padding_mode="zeros", align_corners=False)
        m = m.squeeze(1).long() - 1
        m[m < 0] = IGNORE_INDEX
        mask = mask.clone()
        mask[chosen_d] = m
    return x, mask


def jitter_batch(x: torch.Tensor, amount: float = JITTER) -> torch.Tensor:
    """Random brightness, contrast and saturation per image, on floats in [0, 1]."""
    n = x.shape[0]

    def factors() -> torch.Tensor:
        return (1 + (torch.rand(n, 1, 1, 1) * 2 - 1) * amount).to(x.device, x.dtype)

    x = x * factors()
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * factors() + mean
    w = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    gray = (x * w).sum(1, keepdim=True)
    x = (x - gray) * factors() + gray
    return x.clamp_(0, 1)


class BatchPrep:
    """Moves a uint8 batch to the device and makes the model input (and augments in training)."""

    def __init__(
        self,
        device: torch.device,
        mean,
        std,
        channels_last: bool,
        rotate: bool = False,
        color: bool = False,
    ):
        self.device = device
        self.mean = torch.tensor(mean, dtype=torch.float32, device=device).view(1, 3, 1, 1) * 255
        self.std = torch.tensor(std, dtype=torch.float32, device=device).view(1, 3, 1, 1) * 255
        self.channels_last = channels_last
        self.rotate = rotate
        self.color = color

    def __call__(self, x: torch.Tensor, y: torch.Tensor, train: bool):
        nb = self.device.type == "cuda"
        x = x.to(self.device, non_blocking=nb).float()
        y = y.to(self.device, non_blocking=nb)
        mask = y if y.dim() == 3 else None
        if train and self.color:
            x = jitter_batch(x / 255) * 255
        if train and self.rotate:
            x, mask = rotate_batch(x, mask)
            if mask is not None:
                y = mask
        x = (x - self.mean) / self.std
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return x, y

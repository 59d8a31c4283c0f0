"""Class balance for training (TrainConfig.balance): a class-weighted loss or a balanced sampler.

"weighted_loss": classification's cross-entropy weights each class by n_images / (k * n_class),
so every class adds the same total to the loss; multi-label's BCE gets pos_weight = negatives /
positives per label (capped). "sampler": draw training images with probability inversely
proportional to their class size (with replacement), so batches are balanced on average.
Classification and multi-label only; the data health check (engine.check) offers it.
"""

from __future__ import annotations

import numpy as np

BALANCE_CHOICES = ("none", "weighted_loss", "sampler")
MAX_POS_WEIGHT = 50.0


def _counts(spec) -> np.ndarray:
    """Images per class in the training split (multi-label: positives per label)."""
    n = len(spec.class_names)
    if spec.task == "classification":
        return np.bincount([int(it.target) for it in spec.train], minlength=n).astype(np.float64)
    return np.sum([np.asarray(it.target) for it in spec.train], axis=0).astype(np.float64)


def _mode(spec, config) -> str:
    mode = getattr(config, "balance", "none") or "none"
    if mode not in BALANCE_CHOICES:
        raise ValueError(f"balance must be one of {', '.join(BALANCE_CHOICES)} (got {mode!r}).")
    return mode if spec.task in ("classification", "multilabel") and spec.train else "none"


def make_loss(spec, config):
    """The training loss: engine.training.metrics.make_loss, class-weighted when asked."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    from engine.training.metrics import make_loss as plain

    if _mode(spec, config) != "weighted_loss":
        return plain(spec.task, config.label_smoothing)
    counts = _counts(spec)
    if spec.task == "classification":
        present = counts > 0
        w = np.where(present, counts.sum() / (present.sum() * np.maximum(counts, 1)), 0.0)
        weight = torch.tensor(w, dtype=torch.float32)
        smooth = config.label_smoothing

        def loss(out, y):
            return F.cross_entropy(out, y, weight=weight.to(out.device), label_smoothing=smooth)

        return loss
    pos = np.minimum((len(spec.train) - counts) / np.maximum(counts, 1), MAX_POS_WEIGHT)
    pos_weight = torch.tensor(np.maximum(pos, 1e-3), dtype=torch.float32)

    def bce(out, y):
        return F.binary_cross_entropy_with_logits(
            out, y.to(out.dtype), pos_weight=pos_weight.to(out.device)
        )

    return bce


def train_sampler(spec, config):
    """A WeightedRandomSampler over the training items when balance is "sampler", else None."""
    if _mode(spec, config) != "sampler":
        return None
    import torch
    from torch.utils.data import WeightedRandomSampler

    inv = 1.0 / np.maximum(_counts(spec), 1)
    if spec.task == "classification":
        w = np.array([inv[int(it.target)] for it in spec.train])
    else:  # an image weighs as its rarest label; unlabeled rows cannot occur in training
        w = np.array([(inv * np.asarray(it.target)).max() or inv.min() for it in spec.train])
    gen = torch.Generator().manual_seed(int(config.seed))
    return WeightedRandomSampler(w.tolist(), len(w), replacement=True, generator=gen)

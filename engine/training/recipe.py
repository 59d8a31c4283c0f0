"""The training recipe as pure functions: which phases a run has and the rates of each group.

Pretrained body (fastai's `fine_tune`): `freeze_epochs` epochs of one-cycle on the head with the
body frozen, then the rest of the epochs unfrozen at half the rate, with discriminative rates
(lr/2/LR_MULT .. lr/2 from the input side to the head; LR_MULT is 1 since it was measured on
real pretrained weights, see below). From scratch every layer is random, so there
is nothing to protect: no frozen epochs (a head on random features gains nothing) and one rate
for every group (lr/100 starves the early layers: a street-scene run went from mean IoU 0.08 to
0.22 with this change alone), with fastai's `fit_one_cycle` schedule.

`config.epochs` is the total the user sees; the frozen epochs are counted inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

# Spread of discriminative rates: the earliest group gets lr / LR_MULT. Measured on real ImageNet
# weights (EfficientNet-Lite0) and real photos, 3 epochs, 128 px (benchmarks/transfer_real.py,
# 1 seed): photo_crops 0.700 at 100, 0.700 at 10, 0.775 at 1 (the plain timm loop: 0.775);
# lfw_faces 0.950 / 0.975 / 0.975 (timm loop 0.875). fastai's 100 starved the body on these
# short runs, so a pretrained body now trains at one rate after its frozen epochs.
LR_MULT = 1


@dataclass(frozen=True)
class Schedule:
    """One-cycle shape of a phase (torch.optim.lr_scheduler.OneCycleLR's arguments)."""

    pct_start: float
    div_factor: float
    final_div_factor: float = 1e5


FROZEN = Schedule(pct_start=0.99, div_factor=25.0)  # fine_tune's head-only phase
FINE_TUNE = Schedule(pct_start=0.3, div_factor=5.0)  # fine_tune's unfrozen phase
# fit_one_cycle's shape (fastai warms up for 25 %; 0.3 as torch's default: 0.25 x 4 steps hits a
# division by zero in torch's OneCycleLR when pct_start x total_steps == 1)
SCRATCH = Schedule(pct_start=0.3, div_factor=25.0)


def split_epochs(epochs: int, freeze_epochs: int, pretrained: bool) -> tuple[int, int]:
    """(frozen epochs, total epochs): frozen ones only for a pretrained body, within the total."""
    total = max(1, int(epochs))
    frozen = min(max(0, int(freeze_epochs)), total) if pretrained else 0
    return frozen, total


@dataclass(frozen=True)
class Phase:
    """One phase of a run: a fresh optimizer with one cycle over `epochs`."""

    name: str  # "frozen" (the head alone) | "unfrozen" (the whole network)
    epochs: range  # of the whole run, 0-based
    lr: float  # peak rate of the head group

    @property
    def frozen(self) -> bool:
        return self.name == "frozen"


def phases(lr: float, freeze_epochs: int, total_epochs: int) -> tuple[Phase, Phase]:
    """fastai's fine_tune: the head with the body frozen, then the whole network at half that
    peak rate (`phase_lr`). Either may have no epoch (from scratch: no frozen one)."""
    return (
        Phase("frozen", range(0, freeze_epochs), lr),
        Phase("unfrozen", range(freeze_epochs, total_epochs), phase_lr(lr, False, freeze_epochs)),
    )


def phase_lr(lr: float, frozen: bool, freeze_epochs: int) -> float:
    """Peak rate of the head group in a phase: fine_tune halves it after a frozen phase."""
    return lr / 2 if (not frozen and freeze_epochs > 0) else lr


def group_lrs(lr: float, n_groups: int, *, frozen: bool, pretrained: bool) -> list[float]:
    """Peak rate per parameter group, input side first (frozen: the head group only)."""
    if frozen:
        return [lr]
    n = max(1, int(n_groups))
    if not pretrained:
        return [lr] * n
    return [lr / LR_MULT * LR_MULT ** (i / max(n - 1, 1)) for i in range(n)]


def schedule(*, frozen: bool, pretrained: bool) -> Schedule:
    """The one-cycle shape for a phase."""
    if frozen:
        return FROZEN
    return FINE_TUNE if pretrained else SCRATCH


def finder_frozen(freeze_epochs: int, pretrained: bool) -> bool:
    """The LR finder sweeps what the first phase trains: the head alone when it is frozen."""
    return pretrained and int(freeze_epochs) > 0

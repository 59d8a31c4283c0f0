"""What the loop (engine.training.fit.Loop) shares with its callbacks: the plan, the progress
and the best so far, as Lightning's callbacks read the trainer's."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.training.metrics import MAIN_METRIC


@dataclass
class FitState:
    """The plan, the progress and the best so far of one run."""

    task: str
    lr: float | None  # peak learning rate of the frozen phase (None: not chosen yet)
    freeze_epochs: int
    total_epochs: int  # frozen included
    steps_per_epoch: int
    history: list[dict] = field(default_factory=list)  # one EpochEnd as a dict per epoch
    best: float | None = None  # best value of the monitored metric so far
    best_epoch: int = -1
    start_epoch: int = 0  # first epoch of this session (a resumed run starts later)
    phase: str | None = None  # "frozen" | "unfrozen" once an epoch runs
    optimizer: Any = None
    scheduler: Any = None
    should_stop: bool = False  # set by early stopping; the loop ends after this epoch
    t_start: float = 0.0  # time.perf_counter() when this session's first epoch began

    @property
    def monitor(self) -> str:
        """The metric that decides the best epoch (engine.training.metrics.MAIN_METRIC)."""
        return MAIN_METRIC[self.task][0]

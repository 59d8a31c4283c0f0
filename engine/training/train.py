"""Training entry points: `train` (fastai's fine_tune recipe) and `lr_find`.

The phases and per-group rates come from engine.training.recipe: with a pretrained body,
`freeze_epochs` of the `epochs` train the head alone, the rest unfrozen with discriminative rates
(lr/100 .. lr); from scratch, every epoch unfrozen at one rate. One-cycle schedule, AdamW.
`config.lr=None` takes the LR finder's suggestion (cached in the project; see lr_find.py).
Each run writes its own folder, PROJECT/models/runs/<run-id>/; the
model in use (models/best.pt) changes only when a run finishes better (engine.training.runs).

The run itself is engine.training.fit.Loop (resume, learning rate, phases, epochs, batches);
`train` takes the project's lock, tidies what a killed run left, and hands over.
"""

from __future__ import annotations

from pathlib import Path

from engine.config import TrainConfig
from engine.control import RunControl
from engine.errors import TrainingError
from engine.events import FitEnd, LRFinderResult
from engine.project import sweep as project_sweep
from engine.project.locks import project_lock
from engine.training import lr_find as finder
from engine.training.fit import Loop
from engine.training.resume import Resume
from engine.training.setup import build_run
from engine.training.strategy import Strategy, from_environment

__all__ = ["train", "lr_find"]


def train(
    project,
    config: TrainConfig,
    callbacks=(),
    control: RunControl | None = None,
    resume: bool = False,
    strategy: Strategy | None = None,
) -> FitEnd:
    """Fine-tune a network on the project (see the module docstring); `resume` continues the
    latest run that did not finish, with that run's settings. One training per project at a
    time: a second one, from any process, raises TrainingError naming the first. `strategy`:
    one process or DDP (engine.training.strategy); by default DDP under torchrun."""
    if getattr(project, "read_only", False):
        raise TrainingError(
            f"Cannot train: {project.path} is read-only; copy it to a writable folder."
        )
    strategy = strategy or from_environment()
    lock = project_lock(project.path, "training", error=TrainingError)
    with strategy.main_lock(lock):  # under torchrun, rank 0 holds it for all
        if strategy.is_main:  # what a killed run left: its temporary files, "running" status
            project_sweep.sweep_temps(Path(project.path) / "models", deep=True)
            project_sweep.mark_interrupted(project.path, locked=True)
        where = Resume.latest(project, strategy.world_size) if resume else Resume()
        loop = Loop(project, config, callbacks, control, resume=where, strategy=strategy)
        return loop.fit()


def lr_find(
    project,
    config: TrainConfig,
    callbacks=(),
    control: RunControl | None = None,
    num_it: int | None = None,
    use_cache: bool = True,
) -> LRFinderResult:
    """Loss against learning rate, and a suggested rate; the model is left untouched.

    A result for the same settings and data is read back from the project instead of sweeping
    again (use_cache=False forces a new sweep). A read-only project is refused before the
    sweep, since its result could not be kept."""
    project.check_writable()
    config = TrainConfig.from_dict(config.to_dict())
    run = build_run(project, config, callbacks, control or RunControl())
    return finder.cached_find(project, config, run, num_it or finder.SWEEP_STEPS, use_cache)

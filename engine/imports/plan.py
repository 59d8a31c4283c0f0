"""The import plan: how every import splits the images it brings in (the validation and test
fractions, the rest training, and the seed of the stratified split) and how it paces itself
(`ImportTuning`).

One plan belongs to each project, saved in ``PROJECT/import_plan.json`` (atomically, like every
setting) by `save_plan`; `project_plan` reads it back, and the Re-split dialog (`resplit`),
`topdown new` and `topdown import` with split options set it. A project without the file (made
before the plan existed) gets the split its training settings name, else the defaults (20 %
validation, no test, seed 42). Only the split is saved: the pacing is a property of a run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from engine.errors import ProjectError
from engine.imports.pipeline import ImportTuning
from engine.project.records import TRAINING_FILE

PLAN_FILE = "import_plan.json"
SPLIT_KEYS = ("valid_pct", "test_pct", "seed")  # what is saved (and what recovery replays)


@dataclass(frozen=True)
class ImportPlan:
    """Validation and test fractions (0 <= each, sum below 1; training gets the rest), the seed
    of the split, and the pacing of the run."""

    valid_pct: float = 0.2
    test_pct: float = 0.0
    seed: int = 42
    tuning: ImportTuning = field(default_factory=ImportTuning)

    def __post_init__(self) -> None:
        for name in ("valid_pct", "test_pct"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ProjectError(f"The split's {name} {v!r} is not a number.")
            object.__setattr__(self, name, float(v))
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ProjectError(f"The split's seed {self.seed!r} is not a whole number.")
        v, t = self.valid_pct, self.test_pct
        if not (0 <= v < 1 and 0 <= t < 1 and v + t < 1):
            raise ProjectError("Split percentages must be between 0 and 1 and sum below 1.")

    @property
    def train_pct(self) -> float:
        return 1.0 - self.valid_pct - self.test_pct

    def split(self) -> dict:
        """The split as plain values: what is saved, and what `Project.assign_splits` takes."""
        return {k: getattr(self, k) for k in SPLIT_KEYS}

    @classmethod
    def from_dict(cls, data: dict, problems: list[str] | None = None) -> ImportPlan:
        """A plan from saved values; unknown keys are ignored, and a value that does not fit
        (a hand-edited file) keeps its default, with a sentence in `problems`."""
        kept: dict = {}
        for key in SPLIT_KEYS:
            if key in data:
                try:
                    cls(**{key: data[key]})
                except ProjectError as e:
                    if problems is not None:
                        problems.append(f"{e} The default is used.")
                else:
                    kept[key] = data[key]
        try:
            return cls(**kept)
        except ProjectError as e:  # each fits, not together (valid + test >= 1)
            if problems is not None:
                problems.append(f"{e} The default split is used.")
            return cls()


def project_plan(project, problems: list[str] | None = None) -> ImportPlan:
    """The plan saved with `project` (see the module docstring for projects without one)."""
    data = project.load_settings(PLAN_FILE, problems)
    if not data:
        training = project.load_settings(TRAINING_FILE)
        data = {k: training[k] for k in SPLIT_KEYS if k in training}
    return ImportPlan.from_dict(data, problems)


def save_plan(project, plan: ImportPlan) -> None:
    """Make `plan` the project's: later imports split by it (saved at once, atomically)."""
    project.save_settings(plan.split(), PLAN_FILE)


def resplit(project, plan: ImportPlan) -> None:
    """What the Re-split dialog does: re-assign every automatic split by `plan` (images placed
    by hand or by the data's train/valid folders stay), and keep `plan` as the project's, so
    the images imported next are split the same way."""
    project.check_writable()
    project.assign_splits(**plan.split(), relock=True)
    save_plan(project, plan)


def with_options(plan: ImportPlan, **options) -> ImportPlan:
    """`plan` with the split options that were given (None: keep the plan's)."""
    given = {k: v for k, v in options.items() if v is not None}
    known = {f.name for f in fields(ImportPlan)}
    if unknown := set(given) - known:
        raise TypeError(f"not import plan options: {', '.join(sorted(unknown))}")
    return replace(plan, **given) if given else plan

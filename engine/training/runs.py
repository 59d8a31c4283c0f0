"""Training runs and the model in use, in PROJECT/models/:

    best.pt                  the model in use: what Evaluate, Predict (and Export) read
    evaluation.json / .npz   its results on the validation images, naming the run it came from
    runs/<run-id>/           one folder per run, never written by another run:
        best.pt, last.pt     the run's best model, and its latest state (to resume it; gone
                             once the run finishes: only unfinished runs resume)
        history.json         one entry per epoch
        run.json             status (running | stopped | failed | finished | interrupted:
                             its process was killed, engine.project.sweep), start and end
                             time, settings, best and final metrics, whether it became in use
                             (all four written together at most once a minute while the run
                             goes, and when it ends: engine.training.callbacks.Checkpoints)

A run's model becomes the model in use only when the run finishes and does better on the
validation images than the model in use, both measured now, on the same images
(`settle_model_in_use`), or when the user chooses the run (`use_run`). A stopped or failed run
keeps its last.pt for `train(..., resume=True)` and leaves the model in use alone. Projects from
before runs existed have only models/best.pt (and history.json): they keep working, and their
model in use has no run id.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from engine.atomic import copy_file
from engine.config import TrainConfig
from engine.control import RunControl
from engine.devices import pick_device
from engine.errors import ModelFileError, TrainingError
from engine.models.checkpoint import BEST, LAST, MODELS_DIR, load_checkpoint, model_in_use_file
from engine.project.paths import name_component
from engine.project.store import atomic_write_text
from engine.training.data import DataSpec, prepare_data
from engine.training.eval_run import Masks, evaluate_saved
from engine.training.evaluation import Evaluation, save_evaluation
from engine.training.metrics import MAIN_METRIC, is_better

RUNS_DIR, RUN_FILE, HISTORY_FILE = "runs", "run.json", "history.json"


@dataclass
class RunRecord:
    """run.json of one run (`folder` is where it lives, not saved)."""

    run_id: str
    folder: Path
    status: str = "running"  # running | stopped | failed | finished | interrupted (killed)
    started: str = ""  # local time, ISO 8601
    ended: str = ""
    config: dict = field(default_factory=dict)  # engine.config.TrainConfig.to_dict()
    epochs: int = 0  # planned, frozen included
    epochs_done: int = 0
    metric: str = ""  # the metric that picks the best epoch (engine.training.metrics)
    best_metric: float | None = None
    best_epoch: int = -1
    final_metrics: dict = field(default_factory=dict)  # finished: best model, valid images
    promoted: bool = False  # finished and became the model in use
    in_use_metric: float | None = None  # the model in use it was measured against, if any
    error: str = ""  # failed: the message
    world_size: int = 1  # processes that trained it (torchrun; engine.training.strategy)
    global_batch_size: int = 0  # images per step over all processes (0: before this was kept)
    lr_used: float | None = None  # the peak learning rate it trained with ("auto": the finder's)

    @property
    def best_file(self) -> Path:
        return self.folder / BEST

    @property
    def last_file(self) -> Path:
        return self.folder / LAST

    def save(self) -> None:
        data = {k: v for k, v in asdict(self).items() if k != "folder"}
        atomic_write_text(self.folder / RUN_FILE, json.dumps(data, indent=2))

    def save_history(self, history: list[dict]) -> None:
        atomic_write_text(self.folder / HISTORY_FILE, json.dumps(history, indent=2))


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def models_dir(project) -> Path:
    d = Path(project.path) / MODELS_DIR
    d.mkdir(exist_ok=True)
    return d


def runs_dir(project) -> Path:
    return models_dir(project) / RUNS_DIR


def new_run(project, config: TrainConfig, world_size: int = 1) -> RunRecord:
    """A new run folder named by its start time (a suffix if two start in the same second),
    trained by `world_size` processes."""
    base = time.strftime("%Y%m%d-%H%M%S")
    runs_dir(project).mkdir(exist_ok=True)
    for n in range(1, 1000):
        run_id = base if n == 1 else f"{base}-{n}"
        try:
            (runs_dir(project) / run_id).mkdir()
        except FileExistsError:
            continue
        rec = RunRecord(run_id, runs_dir(project) / run_id, started=now())
        rec.config = config.to_dict()
        rec.epochs = int(config.freeze_epochs + config.epochs)
        rec.world_size = int(world_size)
        rec.global_batch_size = int(config.batch_size)
        rec.save()
        return rec
    raise TrainingError(f"Cannot make a new run folder in {runs_dir(project)}.")


def read_run(folder: Path) -> RunRecord | None:
    """The record in `folder`, or None if it has none or it cannot be read, or is not a run
    record (valid JSON of another shape, fields of the wrong type): such a run is left out of
    the list, so one broken run.json never breaks the project's other runs or --resume."""
    try:
        data = json.loads((folder / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    rec = RunRecord(run_id=folder.name, folder=folder)
    for f in fields(RunRecord):
        if f.name in ("folder", "run_id") or f.name not in data:
            continue
        value, default = data[f.name], getattr(rec, f.name)
        if not _same_kind(value, default, f.name):
            return None
        setattr(rec, f.name, value)
    return rec


_NUMBERS = {"best_metric", "in_use_metric", "lr_used"}  # float or None


def _same_kind(value, default, name: str) -> bool:
    """Whether a run.json value has the type its field needs (see RunRecord)."""
    if name in _NUMBERS:
        return value is None or (isinstance(value, int | float) and not isinstance(value, bool))
    if isinstance(default, bool):
        return isinstance(value, bool)
    if isinstance(default, int):
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, type(default))


def list_runs(project) -> list[RunRecord]:
    """Every readable run of the project, oldest first."""
    d = Path(project.path) / MODELS_DIR / RUNS_DIR
    folders = (
        sorted(p for p in d.iterdir() if p.is_dir() and not p.is_symlink()) if d.is_dir() else []
    )
    return [r for r in map(read_run, folders) if r is not None]


def get_run(project, run_id: str) -> RunRecord:
    """The run `run_id` (a folder name in models/runs/, never a path: OutsideProjectError)."""
    folder = name_component(
        Path(project.path) / MODELS_DIR / RUNS_DIR, run_id, "The run id", file=RUNS_DIR
    )
    rec = read_run(folder)
    if rec is None and (folder / RUN_FILE).is_file():
        raise TrainingError(
            f"{folder / RUN_FILE} is damaged (not a run record), so run {run_id} cannot be used."
        )
    if rec is None:
        raise TrainingError(f"The project has no training run {run_id!r}.")
    return rec


def resumable_run(project) -> RunRecord:
    """The latest run that did not finish and has a last.pt; TrainingError says why not."""
    runs = list_runs(project)
    for rec in reversed(runs):
        if rec.status != "finished" and rec.last_file.is_file():
            return rec
    if runs and runs[-1].status == "finished":
        raise TrainingError(
            f"The latest run ({runs[-1].run_id}) already finished; there is no interrupted run "
            "to resume. Start a new run."
        )
    raise TrainingError(
        f"There is no interrupted run to resume (no run in {runs_dir(project)} has a {LAST})."
    )


def load_history(project) -> list[dict]:
    """The epochs of the latest run (or of an older project's models/history.json); [] before
    any run; ValueError naming the file when it cannot be read."""
    runs = list_runs(project)
    path = (runs[-1].folder if runs else Path(project.path) / MODELS_DIR) / HISTORY_FILE
    if not path.is_file():
        return []
    try:
        history = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise HistoryError(f"{path}: the training history cannot be read ({e}).") from e
    if not isinstance(history, list) or not all(_is_epoch(r) for r in history):
        raise HistoryError(f"{path}: the training history is not a list of epochs.")
    return history


class HistoryError(TrainingError, ValueError):
    """history.json cannot be read or is not a list of epochs; names the file."""


def _is_epoch(row) -> bool:
    """Whether a history.json entry is an epoch as training writes it (events.EpochEnd)."""

    def number(v) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    return (
        isinstance(row, dict)
        and isinstance(row.get("epoch"), int)
        and all(number(row.get(k)) for k in ("train_loss", "valid_loss"))
        and isinstance(row.get("metrics"), dict)
        and all(isinstance(k, str) and number(v) for k, v in row["metrics"].items())
    )


def settle_model_in_use(
    project,
    rec: RunRecord,
    result: tuple[Evaluation, Masks],
    *,
    spec: DataSpec,
    config: TrainConfig,
    device,
    control: RunControl | None = None,
) -> bool:
    """At the end of a finished run: make its best model (measured as `result`) the model in
    use if it beats the model in use, measured now on the same validation images; a model in
    use that cannot be read or predicts other classes is replaced. Either way
    models/evaluation.json then describes the model in use on today's validation images."""
    current, old = model_in_use_file(project.path), None
    if current is not None:
        try:
            ckpt = load_checkpoint(current)
        except ModelFileError:
            ckpt = None
        if ckpt is not None:
            old = evaluate_saved(ckpt, spec, config, device=device, control=control)
            if old is not None:
                old[0].run_id = str(ckpt.get("run_id") or "")
    main = MAIN_METRIC[spec.task][0]
    rec.in_use_metric = old[0].metrics.get(main) if old is not None else None
    new_value = result[0].metrics.get(main)
    if old is None or is_better(spec.task, new_value, rec.in_use_metric):
        install(project, rec, result)
        return True
    save_evaluation(models_dir(project), *old)
    return False


def install(project, rec: RunRecord, result: tuple[Evaluation, Masks]) -> None:
    """Make the run's best.pt the model in use, with its evaluation."""
    copy_file(rec.best_file, models_dir(project) / BEST, doing="saving the model in use best.pt")
    ev, masks = result
    ev.run_id = rec.run_id
    save_evaluation(models_dir(project), ev, masks)


def use_run(project, run_id: str, *, device: str = "auto", control=None) -> Evaluation:
    """The user's choice: make run `run_id`'s best model the model in use, whatever its
    metric, and evaluate it on the project's validation images (returned, and saved for
    Evaluate). TrainingError if the run has no model or it predicts other classes; ProjectError
    (before any work) when the project is read-only."""
    project.check_writable()
    rec = get_run(project, run_id)
    if not rec.best_file.is_file():
        raise TrainingError(f"Run {run_id} has no model to use: no epoch of it finished.")
    ckpt = load_checkpoint(rec.best_file)
    config = TrainConfig.from_dict({**rec.config, "device": device})
    spec = prepare_data(project, config)
    result = evaluate_saved(ckpt, spec, config, device=pick_device(device), control=control)
    if result is None:
        raise TrainingError(
            f"Run {run_id}'s model predicts other classes than the project has now "
            f"({', '.join(ckpt.get('class_names') or ckpt.get('targets') or [])}); "
            "train a new model instead."
        )
    install(project, rec, result)
    return result[0]

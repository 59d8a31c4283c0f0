"""The Train page's runs, looked up on the bridge's thread: every run side by side (status,
epochs, its metric, whether its model is the one in use) and the verdict on the latest one;
`use_run_job` makes a run's model the model in use (engine.training.runs.use_run)."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUS_TEXT = {
    "finished": "Finished",
    "stopped": "Stopped (can be resumed)",
    "failed": "Failed",
    "running": "Interrupted (can be resumed)",  # not running now: the app was quit or killed
}


@dataclass(frozen=True)
class RunRow:
    run_id: str
    started: str
    status: str  # engine's: finished | stopped | failed | running
    status_text: str
    epochs_done: int
    epochs: int
    metric: str
    best_metric: float | None
    has_model: bool
    in_use: bool


@dataclass(frozen=True)
class RunsOverview:
    project_path: str
    rows: tuple[RunRow, ...] = ()
    in_use: str = ""  # the run whose model Evaluate and Predict use ("" if unknown / none)
    verdict: object = None  # engine.training.verdict.Verdict on the latest run, or None
    latest_status: str = ""  # the latest run's status (engine's word)
    notes: list[str] = field(default_factory=list)


def runs_overview(project, live_run: str = "") -> RunsOverview:
    """Every run of `project` (newest first); `live_run` is the run training right now."""
    from engine.errors import EngineError
    from engine.training.evaluation import load_evaluation
    from engine.training.runs import list_runs
    from engine.training.verdict import for_run

    runs = list_runs(project)
    ev = load_evaluation(project)
    in_use = ev.run_id if ev is not None else ""
    rows = []
    for rec in reversed(runs):
        status = rec.status
        text = "Running" if rec.run_id == live_run else STATUS_TEXT.get(status, status)
        rows.append(
            RunRow(
                rec.run_id,
                rec.started.replace("T", " "),
                status,
                text,
                int(rec.epochs_done),
                int(rec.config.get("epochs") or rec.epochs),  # run.json's adds frozen ones twice
                rec.metric,
                rec.best_metric,
                rec.best_file.is_file(),
                rec.run_id == in_use,
            )
        )
    verdict, notes = None, []
    if runs and runs[-1].run_id != live_run:
        try:
            verdict = for_run(project, runs[-1].run_id)
        except (EngineError, OSError, ValueError) as e:
            notes.append(f"No verdict on the latest run: {e}")
    latest = runs[-1].status if runs else ""
    return RunsOverview(str(project.path), tuple(rows), in_use, verdict, latest, notes)


def use_run_job(job, project, run_id: str):
    """Make run `run_id`'s model the model in use; returns its Evaluation."""
    from engine.training.runs import use_run

    return use_run(project, run_id, control=job.control)

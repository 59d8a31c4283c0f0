"""`topdown train PROJECT_DIR [options]`: fine-tune from the command line;
`topdown use-run PROJECT_DIR RUN_ID`: make a run's model the one in use.

A single updating progress line (loss, speed, ETA) goes to stderr; a fastai-like table of
epochs goes to stdout as epochs finish, then whether the run's model is now the model in use
(engine.training.runs). Starts from the project's saved training settings, then the options
given. Errors print one clear line and exit 1, without a traceback.
"""

from __future__ import annotations

import argparse
import sys
import time

from cli.common import UsageError, note, open_project
from engine.config import TrainConfig
from engine.events import BatchEnd, Callback, EpochEnd, FitEnd, FitStart, Progress, Skipped


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune a network on a project",
        description="Train a network on a project's labeled images: fine-tune pretrained weights "
        "(one frozen epoch, then all layers), or train from scratch with --weights none.",
    )
    p.add_argument("project", metavar="PROJECT_DIR")
    p.add_argument(
        "--arch",
        help="architecture: a listed one, or any timm model name, e.g. tf_efficientnet_lite0 "
        "(default: the project's last, or resnet18)",
    )
    p.add_argument("--weights", help="imagenet | none | PATH to a weights file")
    p.add_argument("--epochs", type=int, help="total epochs, frozen ones included (default 5)")
    p.add_argument(
        "--freeze-epochs",
        type=int,
        help="of the epochs, how many train the head alone first (pretrained weights only; "
        "default 1, ignored from scratch)",
    )
    p.add_argument(
        "--lr",
        help="peak learning rate (default 0.002), or 'auto' for the LR finder's suggestion "
        "(swept once, then reused for the same settings)",
    )
    p.add_argument("--image-size", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    p.add_argument(
        "--resume",
        action="store_true",
        help="continue the latest run that did not finish (models/runs/), with its settings",
    )
    p.add_argument("--seed", type=int)
    p.add_argument(
        "--events",
        choices=("jsonl",),
        help="print the run's events as JSON lines on stdout instead of the table (for a "
        "program following the run)",
    )
    p.set_defaults(func=run)

    p = subparsers.add_parser(
        "use-run",
        help="make a training run's model the model in use",
        description="Make the best model of a training run (a folder in PROJECT_DIR/models/"
        "runs/) the model that evaluation and prediction use, and evaluate it.",
    )
    p.add_argument("project", metavar="PROJECT_DIR")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.set_defaults(func=use_run)
    f = subparsers.add_parser(
        "lr-find",
        help="sweep learning rates and suggest one",
        description="Train a few dozen batches at rising learning rates (about 20 s at most) "
        "and suggest a peak rate for `train --lr`. The result is kept in the project and "
        "reused for the same settings unless --fresh is given.",
    )
    f.add_argument("project", metavar="PROJECT_DIR")
    for name in ("--arch", "--weights"):
        f.add_argument(name)
    for name in ("--image-size", "--batch-size", "--seed"):
        f.add_argument(name, type=int)
    f.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"))
    f.add_argument("--fresh", action="store_true", help="sweep again even if a result is kept")
    f.add_argument("--save", action="store_true", help="store the suggestion as the project's lr")
    f.set_defaults(func=run_lr_find, epochs=None, freeze_epochs=None, lr=None)


def _fmt_time(s: float) -> str:
    s = int(max(s, 0))
    return (
        f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
        if s >= 3600
        else f"{s // 60:02d}:{s % 60:02d}"
    )


class TextProgress(Callback):
    """Progress bar on stderr (one line, rewritten) and an epoch table on stdout."""

    def __init__(self, out=None, err=None):
        self.out, self.err = out or sys.stdout, err or sys.stderr
        self.cols: list[str] = []
        self._last = 0.0
        self._warned = ""  # the latest epoch's warning, printed when it first appears

    def _line(self, text: str) -> None:
        self.err.write("\r" + text[:120].ljust(120))
        self.err.flush()

    def _clear(self) -> None:
        self.err.write("\r" + " " * 120 + "\r")
        self.err.flush()

    def on_progress(self, ev: Progress) -> None:
        self._line(f"{ev.text} {ev.done}/{ev.total}")

    def on_fit_start(self, ev: FitStart) -> None:
        self._clear()
        frozen = f" ({ev.freeze_epochs} of them frozen)" if ev.freeze_epochs else ""
        print(
            f"Training {ev.arch} on {ev.device}: {ev.n_train} train / {ev.n_valid} valid "
            f"images, {ev.epochs} epoch(s){frozen}",
            file=self.out,
        )
        self.cols = ["epoch", "train_loss", "valid_loss", *ev.metric_names, "time"]
        print("  ".join(f"{c:>11}" for c in self.cols), file=self.out, flush=True)

    def on_batch_end(self, ev: BatchEnd) -> None:
        now = time.monotonic()
        if now - self._last < 0.1 and ev.step + 1 < ev.total_steps:
            return
        self._last = now
        frac = (ev.step + 1) / max(ev.total_steps, 1)
        bar = "#" * int(frac * 30)
        self._line(
            f"[{bar:<30}] {frac:4.0%} epoch {ev.epoch + 1} loss {ev.loss:.4f} "
            f"{ev.images_per_s:.0f} img/s ETA {_fmt_time(ev.eta_s)}"
            + (" (frozen)" if ev.frozen else "")
        )

    def on_epoch_end(self, ev: EpochEnd) -> None:
        self._clear()
        vals = [str(ev.epoch), f"{ev.train_loss:.4f}", f"{ev.valid_loss:.4f}"]
        vals += [f"{ev.metrics.get(m, float('nan')):.4f}" for m in self.cols[3:-1]]
        vals.append(_fmt_time(ev.seconds))
        print(
            "  ".join(f"{v:>11}" for v in vals) + ("  *" if ev.is_best else ""),
            file=self.out,
            flush=True,
        )
        if ev.warning and ev.warning != self._warned:
            print(f"Warning: {ev.warning}", file=self.err, flush=True)
        self._warned = ev.warning

    def on_skipped(self, ev: Skipped) -> None:
        self._clear()
        print(f"Skipped {ev.path}: {ev.reason}", file=self.err, flush=True)

    def on_fit_end(self, ev: FitEnd) -> None:
        self._clear()


def _config(project, args) -> TrainConfig:
    from engine.models.registry import architectures_for, default_arch, fitting_arch

    problems: list[str] = []
    saved = project.load_settings(problems=problems)
    cfg = TrainConfig.from_dict(saved, problems)
    for line in problems:  # a damaged training.json: named, its defaults used
        where = "" if line.startswith(str(project.path)) else f"{project.path / 'training.json'}: "
        note(f"{where}{line}")
    if args.arch:
        name = fitting_arch(args.arch, project.task)
        if name is None:
            fits = {s.name for s in architectures_for(project.task)}
            raise UsageError(
                f"Architecture {args.arch!r} does not fit a {project.task} project; "
                f"choose one of: {', '.join(sorted(fits))}, or any timm model name "
                "(timm.list_models())."
            )
        cfg.arch = name
    elif fitting_arch(cfg.arch, project.task) is None:
        cfg.arch = default_arch(project.task)
    for name in (
        "weights",
        "epochs",
        "freeze_epochs",
        "image_size",
        "batch_size",
        "device",
        "seed",
    ):
        v = getattr(args, name)
        if v is not None:
            setattr(cfg, name, v)
    if args.lr is not None:
        if args.lr.strip().lower() == "auto":
            cfg.lr = None
        else:
            try:
                cfg.lr = float(args.lr)
            except ValueError:
                raise UsageError(f"--lr must be a number or 'auto', not {args.lr!r}.") from None
            if not cfg.lr > 0:
                raise UsageError("--lr must be above 0.")
    for name in ("epochs", "image_size", "batch_size"):
        if getattr(cfg, name) < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1.")
    if cfg.freeze_epochs < 0:
        raise UsageError("--freeze-epochs cannot be negative.")
    if cfg.freeze_epochs > cfg.epochs:
        raise UsageError(
            f"--freeze-epochs ({cfg.freeze_epochs}) cannot exceed --epochs ({cfg.epochs}): "
            "the frozen epochs are part of the total."
        )
    return cfg


def run_lr_find(args) -> int:
    """`topdown lr-find`: print the sweep as a short table and the suggested rate."""
    with open_project(args.project) as project:
        progress = TextProgress()
        try:
            cfg = _config(project, args)
            from engine.training.train import lr_find

            res = lr_find(project, cfg, [progress], use_cache=not args.fresh)
            if args.save:
                cfg.lr = float(f"{res.suggestion:.3g}")
                project.save_settings(cfg.to_dict())
        finally:  # the progress line goes, whatever cli.main.run prints next
            progress._clear()
    step = max(1, len(res.lrs) // 12)
    print(f"{'learning rate':>14}  {'loss':>8}")
    for lr, loss in list(zip(res.lrs, res.losses, strict=True))[::step]:
        print(f"{lr:>14.2e}  {loss:>8.4f}")
    print(f"Suggested learning rate: {res.suggestion:.2e}")
    print("Saved as the project's learning rate." if args.save else
          f"Train with it: --lr {res.suggestion:.3g}")  # fmt: skip
    return 0


def run(args) -> int:
    """`topdown train`; under torchrun each process runs this, rank 0 alone reports."""
    from engine.training import distributed

    launched = distributed.launched()
    if not launched:
        return _run(args)
    from engine.control import RunControl

    control = RunControl()
    distributed.install_signal_handlers(control)
    distributed.setup(args.device or "auto")
    try:
        return _run(args, control=control, main=distributed.is_main())
    finally:
        distributed.teardown()


def _run(args, control=None, main: bool = True) -> int:
    from engine.event_stream import JsonLines

    with open_project(args.project) as project:
        jsonl = JsonLines() if args.events == "jsonl" else None
        progress = TextProgress(err=_Null() if jsonl or not main else None)
        try:
            cfg = _config(project, args)
            from engine.training.train import train

            end = train(project, cfg, [jsonl or progress], control=control, resume=args.resume)
        except KeyboardInterrupt:
            progress._clear()
            print("Interrupted. Continue later with --resume.", file=sys.stderr)
            return 130
        except Exception as e:  # the event stream says it too; cli.main.run prints the line
            progress._clear()
            if jsonl and main:
                jsonl.error(str(e))
            raise
    if not main:
        return 0
    if jsonl:
        jsonl.result(end)
        return 0
    if not end.history:
        print("No epoch was completed.", file=sys.stderr)
        return 1
    best = (
        end.history[[h["epoch"] for h in end.history].index(end.best_epoch)]
        if end.best_epoch >= 0
        else end.history[-1]
    )
    shown = ", ".join(f"{k} {v:.4f}" for k, v in best["metrics"].items() if "/" not in k)
    print(f"Best epoch {end.best_epoch}: valid_loss {best['valid_loss']:.4f}, {shown}")
    if best.get("warning"):
        print(f"Warning: {best['warning']}")
    print(f"Model saved to {end.checkpoint}")
    print(_in_use_line(project, end))
    _print_verdict(project, end)
    return 0


def _print_verdict(project, end) -> None:
    """How good the model is, against the obvious baseline (engine.training.verdict)."""
    from engine.errors import EngineError
    from engine.training.verdict import for_run

    try:
        verdict = for_run(project, end.run_id, end.history) if end.run_id else None
    except (EngineError, OSError, ValueError) as e:  # the training result stands regardless
        print(f"No verdict on the model: {e}")
        return
    for line in verdict.lines() if verdict is not None else []:
        print(line)


class _Null:
    def write(self, _text) -> None: ...

    def flush(self) -> None: ...


def _in_use_line(project, end) -> str:
    """What happened to the model in use (engine.training.runs), in one sentence."""
    from engine.training.runs import get_run

    if end.cancelled:
        return "The run was stopped; the model in use is unchanged. Continue it with --resume."
    rec = get_run(project, end.run_id)
    if rec.promoted:
        return "This model is now the model in use (models/best.pt)."
    if rec.in_use_metric is None:  # stopped during the final evaluation
        return "The model in use is unchanged."
    mine = rec.final_metrics.get(rec.metric, float("nan"))
    return (
        f"The model in use stays: on the validation images its {rec.metric} is "
        f"{rec.in_use_metric:.4f}, this run's {mine:.4f}. To use this run's model anyway: "
        f"topdown use-run {project.path} {end.run_id}"
    )


def use_run(args) -> int:
    from engine.training import runs

    with open_project(args.project) as project:
        ev = runs.use_run(project, args.run_id, device=args.device)
    shown = ", ".join(f"{k} {v:.4f}" for k, v in ev.metrics.items() if "/" not in k)
    print(f"The model of run {args.run_id} is now the model in use: {shown}.")
    return 0

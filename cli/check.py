"""`topdown check PROJECT [--json] [--fix KIND] [--label-next N]`: the data health check.

Prints each finding (most serious first) with its images and the fix on offer; --json prints
one JSON object (engine.check.report.CheckReport.to_dict). --fix KIND applies the offered fix of
that finding (e.g. --fix leakage, --fix imbalance). Exit status 0 when no finding is "high".
--label-next N lists the N unlabeled images the trained model is least sure of (label these
first); without a model it says to train first.
"""

from __future__ import annotations

import argparse
import json
import sys

from cli.common import UsageError, open_project
from engine.errors import shown


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "check",
        help="check a project's data: duplicates, leakage, imbalance, label mistakes",
        description="Check a project's data for problems that make scores lie.",
    )
    p.add_argument("project", metavar="PROJECT", help="a project folder")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--image-size", type=int, help="training size to compare with (default: the "
                   "project's training setting)")  # fmt: skip
    p.add_argument("--fix", action="append", default=[], metavar="KIND",
                   help="apply the offered fix of this finding (repeatable)")  # fmt: skip
    p.add_argument("--training-labels", action="store_true", help="also run the trained "
                   "model over the training images for likely label mistakes")  # fmt: skip
    p.add_argument("--label-next", type=int, metavar="N", help="instead of the check: list "
                   "the N unlabeled images the trained model is least sure of")  # fmt: skip
    p.set_defaults(func=run)


def label_next(project, n: int, as_json: bool) -> int:
    """Print the `n` most uncertain unlabeled images (needs a trained model)."""
    from engine.interpret.uncertainty import rank_unlabeled
    from engine.predict.predictor import Predictor

    try:
        predictor = Predictor.from_path(project.path, device="cpu")
        ranked = rank_unlabeled(project, predictor)[: max(0, n)]
    except ValueError as e:  # ModelFileError among them: no model yet, or one that can't be read
        raise UsageError(str(e)) from e
    names = {r.id: r.name for r in project.images([i for i, _ in ranked])}
    rows = [{"id": i, "name": names.get(i, ""), "uncertainty": round(u, 4)} for i, u in ranked]
    if as_json:
        print(json.dumps({"label_next": rows}))
    elif not rows:
        print("No unlabeled images.")
    for r in rows if not as_json else []:
        print(f"{r['uncertainty']:.3f}  {shown(r['name'])}")
    return 0


def _names(project, ids: list[int], limit: int = 6) -> str:
    recs = project.images(ids[:limit])
    more = f" (+{len(ids) - limit} more)" if len(ids) > limit else ""
    return ", ".join(shown(r.name) for r in recs) + more


def run(args: argparse.Namespace) -> int:
    from engine.check.checks import run_check
    from engine.check.report import apply_fix

    def progress(done: int, total: int, text: str) -> None:
        if not args.json and total and sys.stderr.isatty():
            print(f"\r{text}: {done}/{total}", end="", file=sys.stderr, flush=True)

    with open_project(args.project) as project:
        if args.label_next is not None:
            return label_next(project, args.label_next, args.json)
        rep = run_check(
            project,
            image_size=args.image_size,
            on_progress=progress,
            training_labels=args.training_labels,
        )
        by_kind = {f.kind: f for f in rep.findings}
        fixed = []
        for kind in args.fix:
            f = by_kind.get(kind)
            if f is None or f.fix is None:
                raise UsageError(f"no fix on offer for {kind!r}.")
            fixed.append(apply_fix(project, f.fix))
        if args.json:
            out = rep.to_dict()
            out["fixed"] = fixed
            print(json.dumps(out))
        else:
            _print(project, rep, fixed)
    return 1 if any(f.severity == "high" for f in rep.findings) and not fixed else 0


def _print(project, rep, fixed: list[str]) -> None:
    print(f"{rep.n_images} images checked in {rep.seconds:.1f} s.")
    if not rep.findings:
        print("No problems found.")
    for f in rep.findings:
        print(f"\n[{f.severity}] {f.kind}: {f.title}")
        print(f"  {shown(f.detail)}")
        if f.groups:
            for g in f.groups[:3]:
                print("  group: " + _names(project, g))
            if len(f.groups) > 3:
                print(f"  ... {len(f.groups) - 3} more group(s)")
        elif f.image_ids:
            print("  images: " + _names(project, f.image_ids))
        if f.fix:
            print(f"  fix: {f.fix.label}  (topdown check {project.path} --fix {f.kind})")
    for line in fixed:
        print(f"\nFixed: {line}")

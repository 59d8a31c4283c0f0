"""CLI: `new` (create a project and import), `import` (more images into a project), `info`
(what a project holds), `demo`, `restore` (put the newest good backup in place of a damaged
project.db).

Errors a user can fix (bad arguments, a folder that is not a project, an invalid regex) are
printed as one clear line on stderr with exit code 1, never a traceback.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli.common import UsageError, open_project, print_error
from engine.errors import StorageError, shown
from engine.project.store import TASKS, Project, ProjectError

MAX_LISTED = 20  # skipped files / duplicates printed before "... and N more"


def register(subparsers) -> None:
    p = subparsers.add_parser("new", help="create a project and import images into it")
    p.add_argument("project", help="folder of the new project")
    p.add_argument(
        "--task",
        choices=TASKS,
        default=None,
        help="default: segmentation for a folder of images + masks (or --masks), else "
        "classification",
    )
    p.add_argument(
        "--from",
        dest="source",
        metavar="DIR",
        help="images: class folders, flat, or a segmentation dataset (train+trainannot, "
        "images+masks, image+label, ... with codes.txt)",
    )
    p.add_argument("--labels-csv", metavar="FILE", help="CSV of filename,label (images in --from)")
    p.add_argument("--label-regex", metavar="RE", help="label = first group of RE on file names")
    p.add_argument("--masks", metavar="DIR", help="segmentation masks matched by file name")
    p.add_argument("--codes", metavar="FILE", help="segmentation class names, one per line")
    p.add_argument(
        "--keep-void",
        action="store_true",
        help="keep a void class of the class list as a class (default: its pixels are ignored)",
    )
    _split_options(p)
    p.set_defaults(func=cmd_new)

    p = subparsers.add_parser("import", help="import more images into an existing project")
    p.add_argument("project")
    p.add_argument("--from", dest="source", metavar="DIR", required=True, help="images")
    p.add_argument("--labels-csv", metavar="FILE", help="CSV of filename,label (images in --from)")
    p.add_argument("--label-regex", metavar="RE", help="label = first group of RE on file names")
    p.add_argument("--masks", metavar="DIR", help="segmentation masks matched by file name")
    p.add_argument("--codes", metavar="FILE", help="segmentation class names, one per line")
    p.add_argument("--keep-void", action="store_true", help="keep a void class as a class")
    _split_options(p)
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("info", help="show a project's classes, counts and skipped files")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_info)

    p = subparsers.add_parser(
        "restore",
        help="replace a damaged project.db with its newest good backup (the damaged file is kept)",
    )
    p.add_argument("project")
    p.set_defaults(func=cmd_restore)

    p = subparsers.add_parser("demo", help="create a demo project of generated shapes")
    p.add_argument("project")
    p.add_argument("--task", choices=TASKS, default="classification")
    p.add_argument("-n", type=int, default=300, help="number of images (default 300)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)


def _split_options(p) -> None:
    """--valid-pct, --test-pct, --seed: the project's import plan (engine.imports.plan)."""
    kept = "the project's import plan; given, they become it"
    p.add_argument("--valid-pct", type=float, help=f"validation share (default: {kept})")
    p.add_argument("--test-pct", type=float, help=f"test share (default: {kept})")
    p.add_argument("--seed", type=int, help=f"seed of the split (default: {kept})")


def _print_report(rep) -> None:
    print(shown(rep.summary()) + ".")
    for line in rep.details(with_classes=False):  # the classes are listed with their counts
        print(shown(line))
    for title, rows in (
        ("Skipped", rep.skipped),
        ("Not matched", rep.unmatched),
        ("Duplicates (already in the project)", None),
    ):
        if rows is None:
            rows = [(a, f"same content as {b}") for a, b in rep.duplicates]
        if not rows:
            continue
        print(f"{title}:")
        for path, why in rows[:MAX_LISTED]:
            print(f"  {shown(path)}: {shown(why)}")
        if len(rows) > MAX_LISTED:
            print(f"  ... and {len(rows) - MAX_LISTED} more")


def _check_args(args) -> str | None:
    """What is wrong with the import options of `new` / `import`, or None."""
    if args.masks and args.task != "segmentation":
        return "--masks needs --task segmentation."
    if args.task == "segmentation" and (args.labels_csv or args.label_regex):
        return "a segmentation project takes --masks, not --labels-csv or --label-regex."
    if args.labels_csv and args.label_regex:
        return "use either --labels-csv or --label-regex, not both."
    if (args.label_regex or args.masks) and not args.source:
        return "--label-regex and --masks need --from DIR (the images)."
    if any(v is not None and not 0 <= v < 1 for v in (args.valid_pct, args.test_pct)):
        return "--valid-pct and --test-pct must be between 0 and 1."
    if _given(args.valid_pct, "valid_pct") + _given(args.test_pct, "test_pct") >= 1:
        return "--valid-pct plus --test-pct must be below 1."
    for flag, path, kind in (
        ("--from", args.source, "dir"),
        ("--labels-csv", args.labels_csv, "file"),
        ("--masks", args.masks, "dir"),
        ("--codes", args.codes, "file"),
    ):
        if path and not (Path(path).is_dir() if kind == "dir" else Path(path).is_file()):
            return f"{flag} {path}: no such {'folder' if kind == 'dir' else 'file'}."
    if args.label_regex:
        try:
            re.compile(args.label_regex)
        except re.error as e:
            return f"--label-regex {args.label_regex!r} is not a valid regular expression: {e}"
    return None


def _given(value: float | None, name: str) -> float:
    """A split option as given, else the default plan's (a project's own is checked later)."""
    from engine.imports.plan import ImportPlan

    return getattr(ImportPlan(), name) if value is None else value


def _import(project: Project, args):
    """Run the import the options ask for; its report (None when there is nothing to import)."""
    from engine.imports import api as importers
    from engine.imports.plan import project_plan, save_plan, with_options

    given = {"valid_pct": args.valid_pct, "test_pct": args.test_pct, "seed": args.seed}
    plan = with_options(project_plan(project), **given)
    if any(v is not None for v in given.values()):
        save_plan(project, plan)  # the project's plan from now on, as the Re-split dialog sets it
    void = not args.keep_void
    if args.labels_csv:
        return importers.import_csv(project, args.labels_csv, args.source, plan=plan)
    if args.label_regex:
        return importers.import_regex(project, args.source, args.label_regex, plan=plan)
    if args.masks:
        return importers.import_segmentation(
            project, args.source, args.masks, args.codes, plan=plan, ignore_void=void
        )
    if args.source:
        return importers.import_folder(project, args.source, plan=plan, ignore_void=void)
    return None


def cmd_import(args) -> int:
    with open_project(args.project) as project:
        args.task = project.task
        if (err := _check_args(args)) is not None:
            raise UsageError(err)
        rep = _import(project, args)
        _print_report(rep)
        _print_counts(project)
    return 0


def cmd_new(args) -> int:
    if args.task is None and args.masks:
        args.task = "segmentation"
    if (err := _check_args(args)) is not None:
        raise UsageError(err)
    if (err := _resolve_task(args)) is not None:
        raise UsageError(err)
    with Project.create(args.project, args.task) as project:
        try:
            rep = _import(project, args)
        except StorageError as e:  # stopped part-way: what was imported is kept
            print_error(f"{e} (project {project.path})")
            return 1
        except ProjectError as e:
            print_error(f"{e} (the project {project.path} was created, but nothing imported)")
            return 1
        if rep is None:
            print(f"Created an empty {args.task} project in {project.path}.")
            return 0
        print(f"Created a {args.task} project in {project.path}.")
        _print_report(rep)
        _print_counts(project)
    return 0


def _resolve_task(args) -> str | None:
    """Pick the task when --task is left out (segmentation for a folder of images + masks) and
    refuse a segmentation dataset for another task; an error message, or None."""
    from engine.imports.layouts import detect_segmentation

    plain = args.source and not (args.labels_csv or args.label_regex or args.masks)
    layout = detect_segmentation([args.source]) if plain else None
    if args.task is None:
        args.task = "segmentation" if layout is not None else "classification"
    elif layout is not None and args.task != "segmentation":
        return (
            f"--from {args.source} holds segmentation images and masks ({layout.describe()}); "
            "use --task segmentation, or leave --task out."
        )
    return None


def project_info(project: Project) -> dict:
    """Plain summary of a project (the `info --json` output)."""
    c = project.counts()
    return {
        "path": str(project.path),
        "name": project.name,
        "task": project.task,
        "classes": project.class_names(),
        "targets": project.targets if project.task == "regression" else [],
        "total": c.total,
        "unlabeled": c.unlabeled,
        "per_class": c.per_class,
        "per_split": c.per_split,
        "per_class_split": c.per_class_split,
        "skipped": [{"path": p, "reason": r} for p, r in project.skipped()],
    }


def _print_counts(project: Project) -> None:
    info = project_info(project)
    splits = ", ".join(f"{s} {n}" for s, n in sorted(info["per_split"].items()))
    print(f"Images: {info['total']} ({splits or 'none'}); unlabeled: {info['unlabeled']}")
    if info["task"] == "regression":
        print(f"Targets: {', '.join(info['targets'])}")
    if info["classes"]:
        width = max(len(n) for n in info["classes"])
        print("Classes:" if info["task"] != "segmentation" else "Classes (mask value: name):")
        for k, name in enumerate(info["classes"]):
            per = info["per_class_split"].get(name, {})
            detail = ", ".join(f"{s} {n}" for s, n in sorted(per.items()))
            count = f"{info['per_class'].get(name, 0):>6}  ({detail or '-'})"
            if info["task"] == "segmentation":  # images whose mask holds the class
                print(f"  {k:>3}: {name:<{width}}  {count}")
            else:
                print(f"  {name:<{width}}  {count}")


def cmd_info(args) -> int:
    with open_project(args.project) as project:
        if args.json:
            print(json.dumps(project_info(project), indent=2, ensure_ascii=False))
            return 0
        ro = " (read-only)" if project.read_only else ""
        print(f"{project.name}: {project.task} project in {project.path}{ro}")
        _print_counts(project)
        skipped = project.skipped()
        if skipped:
            print(f"Skipped files ({len(skipped)}):")
            for path, why in skipped[:MAX_LISTED]:
                print(f"  {shown(path)}: {shown(why)}")
            if len(skipped) > MAX_LISTED:
                print(f"  ... and {len(skipped) - MAX_LISTED} more (see --json)")
    return 0


def cmd_restore(args) -> int:
    from engine.project.backup import restore

    done = restore(Path(args.project))
    b = done.backup
    db_file = Path(args.project) / "project.db"
    print(f"Restored {db_file} from the backup of {b.when()} ({b.age()}).")
    if done.kept is not None:
        print(f"The damaged file was kept as {done.kept}.")
    print("Changes made after the backup was taken are not in it.")
    return 0


def cmd_demo(args) -> int:
    from engine.project.demo import create_demo_project

    with create_demo_project(args.project, args.task, n=args.n, seed=args.seed) as project:
        print(f"Created a demo {args.task} project in {project.path}.")
        _print_counts(project)
    return 0

"""Bring a user's images into a project: class folders, dropped files, CSV labels, labels from
file names, segmentation masks.

Every importer reads its input into items (the readers of `engine.imports.formats` and
`engine.imports.segmentation`) and hands them to the one `import_items`, which splits them by
the project's import plan (`engine.imports.plan`: validation/test fractions and seed, saved
with the project; a caller may pass another) and returns an `ImportReport`. Every file takes
the same path (`engine.imports.pipeline.ImportRun`): count the files first (so progress has a
total), then per file check for cancel, hash it, drop duplicates, validate it with
`engine.imaging.load_rgb`, copy it into ``PROJECT/images/`` (originals are never touched) and
collect it; every `ImportTuning.batch` files (500; the plan's tuning) are given their final
names and committed in one `project.add_images` transaction (copies are made under temporary
names; engine.project.recovery). A process killed at any moment leaves a project that opens
with every completed batch, and the next open clears the rest. One import runs per project at
a time, across processes (the "import" project lock). A full, read-only or failing disk stops
the import with one `StorageError` naming the folder and the remedy; what was committed stays.
Unusable files are skipped with a reason, reported and kept in the project
(`project.record_skipped`); one bad file never stops an import. On cancel, the files already
copied are committed and `engine.control.Cancelled` is raised.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from engine.control import RunControl
from engine.errors import EngineError
from engine.events import Progress
from engine.imports.formats import (
    SPLIT_DIRS,
    csv_items,
    folder_items,
    item_for,
    label_kwargs,
    regex_items,
)
from engine.imports.layouts import MASK_SUFFIXES, SegLayout, detect_segmentation
from engine.imports.pipeline import (
    IGNORED_FILES,
    ImportItem,
    ImportReport,
    ImportRun,
    ImportTuning,
    links_outside,
)
from engine.imports.plan import ImportPlan, project_plan
from engine.imports.segmentation import layout_items, loose_items, seg_items
from engine.imports.split_note import split_folders_note
from engine.project import recovery
from engine.project.db import READ_ONLY
from engine.project.locks import project_lock
from engine.project.store import SPLITS, Project, ProjectError

__all__ = [
    "IGNORED_FILES",
    "MASK_SUFFIXES",
    "SPLIT_DIRS",
    "ImportPlan",
    "ImportReport",
    "ImportTuning",
    "ProgressFn",
    "detect_segmentation",
    "import_csv",
    "import_folder",
    "import_items",
    "import_paths",
    "import_regex",
    "import_segmentation",
]

ProgressFn = Callable[[Progress], None]


def import_items(
    project: Project,
    items: Sequence[ImportItem],
    plan: ImportPlan | None = None,
    *,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
    report: ImportReport | None = None,
) -> ImportReport:
    """Import `items` (read by the importers below), then split whatever was committed by
    `plan` (default: the project's, `project_plan`), also when cancelled, and describe the
    result in `report` (which a reader may have begun)."""
    plan = plan if plan is not None else project_plan(project)
    report = report if report is not None else ImportReport()
    from_train = _valid_share_from_train(project, items, plan.valid_pct)
    settings = plan.split()
    if from_train and any(i.split == "test" for i in items):
        settings["test_pct"] = 0.0  # the test/ folder is the test set; train/ only gives valid
    if project.read_only:
        raise ProjectError(READ_ONLY.format(path=project.path))
    with project_lock(project.path, "import"):
        recovery.begin(project, settings)
        run = ImportRun(project, control, on_progress, tuning=plan.tuning, report=report)
        try:
            run.run(items)
        except BaseException:
            with contextlib.suppress(EngineError, sqlite3.Error):  # the first error tells
                _settle(project, settings)  # if this fails too, the next open does it
            raise
        _settle(project, settings)
    _describe(project, report, from_train, plan)
    if note := split_folders_note(items, report.splits):
        report.notes.append(note)
    return report


def _settle(project: Project, settings: dict) -> None:
    """Assign splits to whatever was committed, then mark the import as ended."""
    project.assign_splits(**settings)
    recovery.end(project)


def _valid_share_from_train(project: Project, items: Sequence[ImportItem], valid_pct) -> bool:
    """Data with a train/ folder but no validation folder, going into a project without
    validation images: let the automatic split (stratified, seeded) take the validation share
    from train/, as fastai's valid_pct does, instead of leaving training without a valid set."""
    splits = {i.split for i in items if not i.skip}
    if valid_pct <= 0 or "train" not in splits or "valid" in splits:
        return False
    if project.query(split="valid"):
        return False
    for i in items:
        if i.split == "train":
            i.split = None
    return True


def _describe(project: Project, report: ImportReport, from_train: bool, plan: ImportPlan) -> None:
    """Fill in what the report says about the result: task, classes, images per split."""
    report.task = report.task or project.task
    report.classes = project.class_names()
    got = [split for split, _ in project.split_state(report.added).values()]
    report.splits.update({s: got.count(s) for s in SPLITS if s in got})
    if from_train and report.added:
        n = report.splits.get("valid", 0)
        by = "by class" if project.task != "regression" else "by value"
        report.notes.append(
            f"No validation folder: {n} image{'s' if n != 1 else ''} of train/ "
            f"({plan.valid_pct:.0%}, stratified {by}, seed {plan.seed}) set aside for validation."
        )


def _layout_items(
    project: Project, layout: SegLayout, report: ImportReport, ignore_void: bool
) -> list[ImportItem]:
    if project.task != "segmentation":
        where = ", ".join(sorted(str(p) for p in layout.covers if p.is_dir()))
        raise ProjectError(
            f"{where} holds segmentation images and masks ({layout.describe()}); import it "
            "into a segmentation project, where the masks become labels (this "
            f"{project.task} project would take the masks for photos)."
        )
    return layout_items(project, layout, report, ignore_void=ignore_void)


def _folder_items(
    project: Project, folder: Path, label: str | None, report: ImportReport, ignore_void: bool
) -> list[ImportItem]:
    """Items of one folder: a segmentation dataset (images + masks) when it is one, else class
    folders (or, for a segmentation project, its images without masks)."""
    if label is None and (layout := detect_segmentation([folder])) is not None:
        return _layout_items(project, layout, report, ignore_void)
    if project.task == "segmentation" and label is None:
        return loose_items(folder)
    return folder_items(project, folder, label)


def import_folder(
    project: Project,
    folder: str | os.PathLike,
    *,
    label: str | None = None,
    ignore_void: bool = True,
    plan: ImportPlan | None = None,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Import a folder: one subfolder per class (optionally below train/ valid|val/ test/,
    which then fix the split; without a validation folder the validation share comes from
    train/), or loose images (unlabeled). With `label`, every image gets it. A segmentation
    dataset (see engine.imports.layouts) brings its masks and class names; a void class in its
    class list becomes 'ignore' unless `ignore_void` is False."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ProjectError(f"{folder} is not a folder.")
    report = ImportReport()
    items = _folder_items(project, folder, label, report, ignore_void)
    report.notes += links_outside(folder, items)
    return import_items(
        project, items, plan, control=control, on_progress=on_progress, report=report
    )


def import_paths(
    project: Project,
    paths: Iterable[str | os.PathLike],
    label: str | None = None,
    *,
    ignore_void: bool = True,
    plan: ImportPlan | None = None,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """What a drag-and-drop does: a segmentation dataset among the paths (a dataset folder, or
    image and annotation folders side by side, perhaps with codes.txt) imports as images with
    masks; other files are imported (with `label` if given), other folders go through
    `import_folder`. Paths that do not exist are reported as skipped."""
    paths = [Path(p) for p in paths]
    report = ImportReport()
    items: list[ImportItem] = []
    folders: list[Path] = []
    kw = {} if label is None else label_kwargs(project, label, "label")
    layout = detect_segmentation(paths) if label is None else None
    if layout is not None:
        items += _layout_items(project, layout, report, ignore_void)
    for p in paths:
        if layout is not None and p in layout.covers:
            continue
        if p.is_dir():
            folders.append(p)
        elif p.is_file():
            i = item_for(p, **kw)
            reason = (
                "a CSV of labels: import it with the CSV importer, not as an image"
                if p.suffix.lower() == ".csv"
                else "not an image file"
            )
            items.append(i if i is not None else ImportItem(p, skip=reason))
        else:
            items.append(ImportItem(p, skip="does not exist"))
    for folder in folders:
        items += _folder_items(project, folder, label, report, ignore_void)
    return import_items(
        project, items, plan, control=control, on_progress=on_progress, report=report
    )


def import_csv(
    project: Project,
    csv_file: str | os.PathLike,
    images_dir: str | os.PathLike | None = None,
    *,
    plan: ImportPlan | None = None,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Rows of `filename,label` (header optional). The label is a class name, several names
    separated by spaces (multi-label), or one or more numbers (regression: in one cell
    separated by spaces, or one column each). A header may add an `is_valid` or `split` column
    that fixes the split. Files are looked up in `images_dir` (default: the CSV's folder)."""
    if project.task == "segmentation":
        raise ProjectError("A segmentation project takes masks, not CSV labels.")
    csv_file = Path(csv_file)
    folder = Path(images_dir) if images_dir else csv_file.parent
    if not folder.is_dir():
        raise ProjectError(f"The images folder {folder} does not exist.")
    report = ImportReport()
    items = csv_items(project, csv_file, folder, report)
    return import_items(
        project, items, plan, control=control, on_progress=on_progress, report=report
    )


def import_regex(
    project: Project,
    folder: str | os.PathLike,
    pattern: str,
    *,
    plan: ImportPlan | None = None,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Label each image by a part of its file name: the first group of `pattern` (or the group
    named `label`), e.g. ``^(.+)_\\d+\\.jpg$``. Files that do not match are skipped."""
    if project.task == "segmentation":
        raise ProjectError("A segmentation project takes masks, not labels from file names.")
    items = regex_items(project, Path(folder), pattern)
    return import_items(project, items, plan, control=control, on_progress=on_progress)


def import_segmentation(
    project: Project,
    images_dir: str | os.PathLike,
    masks_dir: str | os.PathLike,
    codes_file: str | os.PathLike | None = None,
    *,
    ignore_void: bool = True,
    plan: ImportPlan | None = None,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
) -> ImportReport:
    """Images and their masks, matched by file stem (the mask may add _P, _mask, _label, ...).
    `codes_file` names the classes by mask value, one per line; without it the classes are
    class_0, class_1, ... up to the largest value found. A void class in it (void, unlabelled,
    ignore) becomes the ignore value 255 unless `ignore_void` is False; masks holding only 0
    and 255 are read as classes 0 and 1. An image without a mask is imported unlabeled; a mask
    of the wrong size or with values outside the class list skips its image."""
    if project.task != "segmentation":
        raise ProjectError("Masks can only be imported into a segmentation project.")
    report = ImportReport()
    items = seg_items(
        project, Path(images_dir), Path(masks_dir), codes_file, report, ignore_void=ignore_void
    )
    report.notes += links_outside(Path(images_dir), items)
    return import_items(
        project, items, plan, control=control, on_progress=on_progress, report=report
    )

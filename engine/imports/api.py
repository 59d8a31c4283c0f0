"""Bring a user's images into a project: class folders, dropped files, CSV labels, labels from
file names, segmentation masks.

Every importer returns an `ImportReport` and follows the same path
(`engine.imports.pipeline.ImportRun`; what each kind of input reads is in
`engine.imports.formats`): count the files first (so progress has a total), then per file check
for cancel, hash it, drop duplicates, validate it with `engine.imaging.load_rgb`, copy it into
``PROJECT/images/`` (originals are never touched) and collect it; every `ImportTuning.batch`
files (500) one `project.add_images` transaction commits the batch. A process killed at any
moment leaves a project that opens with every completed batch. Unusable files are skipped with
a reason, reported and kept in the project (`project.record_skipped`); one bad file never stops
an import. On cancel, the files already copied are committed and `engine.control.Cancelled` is
raised.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from engine.control import RunControl
from engine.events import Progress
from engine.imports.formats import (
    MASK_SUFFIXES,
    SPLIT_DIRS,
    any_folder_items,
    csv_items,
    item_for,
    label_kwargs,
    regex_items,
    seg_items,
)
from engine.imports.pipeline import IGNORED_FILES, ImportItem, ImportReport, ImportRun, ImportTuning
from engine.project.store import Project, ProjectError

__all__ = [
    "IGNORED_FILES",
    "MASK_SUFFIXES",
    "SPLIT_DIRS",
    "ImportReport",
    "ImportTuning",
    "ProgressFn",
    "import_csv",
    "import_folder",
    "import_paths",
    "import_regex",
    "import_segmentation",
]

ProgressFn = Callable[[Progress], None]


def _finish(
    project: Project,
    items: Sequence[ImportItem],
    *,
    control: RunControl | None,
    on_progress: ProgressFn | None,
    split: dict,
    tuning: ImportTuning | None,
) -> ImportReport:
    try:
        return ImportRun(project, control, on_progress, tuning).run(items)
    finally:
        project.assign_splits(**split)


def import_folder(
    project: Project,
    folder: str | os.PathLike,
    *,
    label: str | None = None,
    valid_pct: float = 0.2,
    test_pct: float = 0.0,
    seed: int = 42,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
    tuning: ImportTuning | None = None,
) -> ImportReport:
    """Import a folder: one subfolder per class (optionally below train/ valid|val/ test/,
    which then fix the split), or loose images (unlabeled). With `label`, every image gets it.
    A segmentation project given a folder holding images/ and masks/ imports the masks too."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ProjectError(f"{folder} is not a folder.")
    items = any_folder_items(project, folder, label)
    split = {"valid_pct": valid_pct, "test_pct": test_pct, "seed": seed}
    return _finish(
        project, items, control=control, on_progress=on_progress, split=split, tuning=tuning
    )


def import_paths(
    project: Project,
    paths: Iterable[str | os.PathLike],
    label: str | None = None,
    *,
    valid_pct: float = 0.2,
    test_pct: float = 0.0,
    seed: int = 42,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
    tuning: ImportTuning | None = None,
) -> ImportReport:
    """What a drag-and-drop does: files are imported (with `label` if given), folders go
    through `import_folder`. Paths that do not exist are reported as skipped."""
    items: list[ImportItem] = []
    folders: list[Path] = []
    kw = {} if label is None else label_kwargs(project, label, "label")
    for p in map(Path, paths):
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
        items += any_folder_items(project, folder, label)
    split = {"valid_pct": valid_pct, "test_pct": test_pct, "seed": seed}
    return _finish(
        project, items, control=control, on_progress=on_progress, split=split, tuning=tuning
    )


def import_csv(
    project: Project,
    csv_file: str | os.PathLike,
    images_dir: str | os.PathLike | None = None,
    *,
    valid_pct: float = 0.2,
    test_pct: float = 0.0,
    seed: int = 42,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
    tuning: ImportTuning | None = None,
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
    items = csv_items(project, csv_file, folder)
    split = {"valid_pct": valid_pct, "test_pct": test_pct, "seed": seed}
    return _finish(
        project, items, control=control, on_progress=on_progress, split=split, tuning=tuning
    )


def import_regex(
    project: Project,
    folder: str | os.PathLike,
    pattern: str,
    *,
    valid_pct: float = 0.2,
    test_pct: float = 0.0,
    seed: int = 42,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
    tuning: ImportTuning | None = None,
) -> ImportReport:
    """Label each image by a part of its file name: the first group of `pattern` (or the group
    named `label`), e.g. ``^(.+)_\\d+\\.jpg$``. Files that do not match are skipped."""
    if project.task == "segmentation":
        raise ProjectError("A segmentation project takes masks, not labels from file names.")
    items = regex_items(project, Path(folder), pattern)
    split = {"valid_pct": valid_pct, "test_pct": test_pct, "seed": seed}
    return _finish(
        project, items, control=control, on_progress=on_progress, split=split, tuning=tuning
    )


def import_segmentation(
    project: Project,
    images_dir: str | os.PathLike,
    masks_dir: str | os.PathLike,
    codes_file: str | os.PathLike | None = None,
    *,
    valid_pct: float = 0.2,
    test_pct: float = 0.0,
    seed: int = 42,
    control: RunControl | None = None,
    on_progress: ProgressFn | None = None,
    tuning: ImportTuning | None = None,
) -> ImportReport:
    """Images and their masks, matched by file stem (the mask may add _P, _mask, _label, ...).
    `codes_file` names the classes by mask value, one per line; without it the classes are
    class_0, class_1, ... up to the largest value found. An image without a mask is imported
    unlabeled; a mask of the wrong size or with values outside the class list skips its image."""
    if project.task != "segmentation":
        raise ProjectError("Masks can only be imported into a segmentation project.")
    items = seg_items(project, Path(images_dir), Path(masks_dir), codes_file)
    split = {"valid_pct": valid_pct, "test_pct": test_pct, "seed": seed}
    return _finish(
        project, items, control=control, on_progress=on_progress, split=split, tuning=tuning
    )

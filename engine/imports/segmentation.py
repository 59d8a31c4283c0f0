"""Segmentation imports: images with their masks from the folder pairs that
`engine.imports.layouts` recognised, the class list that names mask values, a void class
(``void``, ``unlabelled``, ``ignore``) turned into the ignore value, and ISBI-style 0/255 masks
read as classes 0/1. Each image becomes an `ImportItem` carrying its mask and a `MaskMap` that
converts the dataset's mask values into the project's; what was decided is written to the
`ImportReport` (layout, notes, unmatched files).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from engine.imaging import BadImage, load_mask
from engine.imports.layouts import (
    SegLayout,
    SegPair,
    find_mask,
    mask_stem_index,
)
from engine.imports.pipeline import ImportItem, ImportReport, MaskMap, item_for, walk_files
from engine.project.store import IGNORE_INDEX, Project, ProjectError

# class names that mean "no class here" (compared lower-case): their pixels are ignored
VOID_NAMES = ("void", "unlabelled", "unlabeled", "ignore")


def is_void(name: str) -> bool:
    return name.strip().lower() in VOID_NAMES


def read_class_list(path: Path) -> list[str]:
    """Class names by mask value, one a line; ProjectError naming the file if unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ProjectError(f"Cannot read the class list {path}: {e}") from e
    codes = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not codes:
        raise ProjectError(f"The class list {path} is empty.")
    if len(set(codes)) != len(codes):
        raise ProjectError(f"The class list {path} names a class twice.")
    if len(codes) > IGNORE_INDEX:
        raise ProjectError(f"The class list {path} has more than {IGNORE_INDEX} classes.")
    return codes


def _mask_values(masks: list[Path]) -> set[int]:
    """Every value found in these masks (unreadable ones are reported with their image)."""
    seen = np.zeros(256, bool)
    for f in masks:
        try:
            seen |= np.bincount(load_mask(f).ravel(), minlength=256) > 0
        except BadImage:
            continue
    return {int(v) for v in np.flatnonzero(seen)}


def class_setup(
    project: Project,
    class_list: Path | None,
    masks: list[Path],
    report: ImportReport,
    *,
    ignore_void: bool = True,
) -> MaskMap:
    """Make the project's classes from the class list (or the mask values) and return how the
    dataset's mask values map onto them. A void class the project does not have yet becomes
    255 (ignored by the loss and the metrics); masks holding only 0 and 255 become 0/1."""
    existing = project.class_names()
    raw = read_class_list(class_list) if class_list is not None else None
    void = [
        k for k, n in enumerate(raw or []) if ignore_void and is_void(n) and n not in existing
    ]  # fmt: skip
    names = [n for k, n in enumerate(raw) if k not in void] if raw is not None else None
    n_raw = len(raw) if raw is not None else None
    binary = False
    if (names is None and len(existing) <= 2) or (names is not None and len(names) == 2):
        values = _mask_values(masks)
        binary = IGNORE_INDEX in values and values <= {0, IGNORE_INDEX}
        if names is None and not existing:
            top = max((v for v in values if v != IGNORE_INDEX), default=0)
            names = [f"class_{k}" for k in range(max(top + 1, 2 if binary else 1))]
            n_raw = len(names)
    if names is None:
        names, n_raw = existing, len(existing)
    common = min(len(names), len(existing))
    if names[:common] != existing[:common]:
        where = f"The class list {class_list}" if class_list else "The masks' classes"
        raise ProjectError(
            f"{where} ({', '.join(names)}) does not match this project's classes "
            f"({', '.join(existing)})."
        )
    project.ensure_classes(names)
    lut = np.arange(256, dtype=np.int32)
    for v in range(n_raw):  # a void value -> 255; the values after it close the gap
        lut[v] = IGNORE_INDEX if v in void else v - sum(k < v for k in void)
    allowed = np.zeros(256, bool)
    allowed[:n_raw] = True
    allowed[IGNORE_INDEX] = True
    if binary:
        lut[IGNORE_INDEX] = 1
        report.notes.append(
            f"The masks hold only the values 0 and 255: read as two classes, 0 = "
            f"{names[0]} and 255 = {names[1]}."
        )
    for k in void:
        report.notes.append(
            f"'{raw[k]}' in {class_list.name} (mask value {k}) is treated as 'ignore': its "
            "pixels are left out of the loss and the metrics (stored as 255)."
        )
    shown = f"0-{n_raw - 1}" + (f" in {class_list.name}" if class_list else "")
    shown += ", 255 = " + ("class 1" if binary else "unlabeled")
    return MaskMap(lut.astype(np.uint8), allowed, shown)


def _valid_names(valid_list: Path | None) -> set[str]:
    if valid_list is None:
        return set()
    try:
        text = valid_list.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ProjectError(f"Cannot read the validation list {valid_list}: {e}") from e
    return {Path(ln.strip()).name.lower() for ln in text.splitlines() if ln.strip()}


def layout_items(
    project: Project, layout: SegLayout, report: ImportReport, *, ignore_void: bool = True
) -> list[ImportItem]:
    """Items for every image of the layout's folder pairs, each with its mask (images without
    one come in unlabeled); sets up the classes. Unmatched files are named in the report."""
    indexes = [mask_stem_index(p.masks) for p in layout.pairs]
    all_masks = [m for ix in indexes for m in ix.values()]
    mask_map = class_setup(project, layout.class_list, all_masks, report, ignore_void=ignore_void)
    valid = _valid_names(layout.valid_list)
    items: list[ImportItem] = []
    for pair, index in zip(layout.pairs, indexes, strict=True):
        used: set[Path] = set()
        for f in walk_files(pair.images):
            item = item_for(f, split=pair.split)
            if item is None:
                continue
            if valid:
                item.split = "valid" if f.name.lower() in valid else "train"
            if not item.skip:
                item.mask_src = find_mask(f, index)
                item.mask_map = mask_map
                if item.mask_src is None:
                    report.unmatched.append(
                        (str(f), f"no mask in {pair.masks.name}/; imported without a mask")
                    )
                else:
                    used.add(item.mask_src)
            items.append(item)
        report.unmatched += [
            (str(m), f"a mask with no image of that name in {pair.images.name}/")
            for m in sorted(set(index.values()) - used)
        ]
    report.task = "segmentation"
    report.layout = layout.describe()
    return items


def seg_items(
    project: Project,
    images_dir: Path,
    masks_dir: Path,
    codes_file: str | os.PathLike | None,
    report: ImportReport,
    *,
    ignore_void: bool = True,
) -> list[ImportItem]:
    """Items for a folder of images and a folder of masks (see import_segmentation)."""
    for d in (images_dir, masks_dir):
        if not d.is_dir():
            raise ProjectError(f"{d} is not a folder.")
    codes = Path(codes_file) if codes_file else None
    layout = SegLayout([SegPair(images_dir, masks_dir)], codes)
    return layout_items(project, layout, report, ignore_void=ignore_void)


def loose_items(folder: Path) -> list[ImportItem]:
    """A segmentation drop with no annotation folders: its images, without masks."""
    return [i for f in walk_files(folder) if (i := item_for(f))]


__all__ = [
    "VOID_NAMES",
    "class_setup",
    "is_void",
    "layout_items",
    "loose_items",
    "read_class_list",
    "seg_items",
]

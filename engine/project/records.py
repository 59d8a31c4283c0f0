"""Plain values of a Topdown project: constants, records, colours, atomic writes.

Kept apart from `engine.project.store` (which re-exports all of it) so that modules needing only
these values stay light. Never imports Qt or torch.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 1
# meta key set once a segmentation project's labels table lists the classes in each mask
# (projects made before that are backfilled when opened; see engine.project.db.backfill_mask_labels)
MASK_LABELS_KEY = "mask_labels"
FORMAT = "topdown-project"
TASKS = ("classification", "multilabel", "regression", "segmentation")
SPLITS = ("train", "valid", "test")
IGNORE_INDEX = 255  # mask value for unlabeled pixels

PROJECT_FILE = "project.json"
DB_FILE = "project.db"
TRAINING_FILE = "training.json"


@dataclass(frozen=True)
class ClassInfo:
    id: int
    name: str
    color: str  # "#rrggbb"
    position: int  # order in the class list; for segmentation the mask value


@dataclass(frozen=True)
class ImageRecord:
    id: int
    file: str  # path relative to the project folder
    name: str  # the original file name, for display and filtering
    source: str  # where it was imported from (informational only)
    sha1: str
    width: int
    height: int
    split: str
    labels: tuple[str, ...] = ()
    values: tuple[float, ...] | None = None  # regression targets
    mask: str | None = None  # mask path relative to the project folder


@dataclass
class NewImage:
    """One image to add; `file` is already inside the project folder (see engine.imports.api)."""

    file: str
    name: str
    source: str
    sha1: str
    width: int
    height: int
    labels: Sequence[str] = ()
    values: Sequence[float] | None = None
    mask: str | None = None
    split: str | None = None  # None: assigned by assign_splits
    split_locked: bool = False  # True when the import fixed it (train/ valid/ folders)


@dataclass
class Counts:
    total: int = 0
    unlabeled: int = 0
    per_class: dict[str, int] = field(default_factory=dict)
    per_split: dict[str, int] = field(default_factory=dict)
    per_class_split: dict[str, dict[str, int]] = field(default_factory=dict)


_PALETTE = [
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#fabed4",
    "#469990",
    "#dcbeff",
    "#9a6324",
    "#800000",
    "#aaffc3",
    "#808000",
    "#000075",
]


def default_color(index: int) -> str:
    """A distinct colour for the index-th class (golden-angle hues past the palette)."""
    if index < len(_PALETTE):
        return _PALETTE[index]
    h = (index * 0.618033988749895) % 1.0
    r, g, b = colorsys.hsv_to_rgb(h, 0.75, 0.9)
    return f"#{int(r * 255):02x}{int(g * 255):02x}{int(b * 255):02x}"


def atomic_write_text(path: Path, text: str) -> None:
    """Write a file so that a crash leaves either the old or the new content, never half;
    StorageError (and no temporary file) when the disk refuses (engine.atomic)."""
    from engine.atomic import write_text

    write_text(path, text)

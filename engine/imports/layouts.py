"""Recognise a segmentation dataset in what the user dropped or named: image folders paired with
annotation folders (CamVid's ``train``+``trainannot``, ``images``+``masks``, ``image``+``label``,
``x``+``x_labels`` / ``x_masks``, the same below ``train/ val/ test/`` split folders), with the
class names in ``codes.txt`` or a class list. `detect_segmentation` is the one detection: drops,
the folder importer and ``main.py new`` all ask it, so a mask folder is never taken for photos
or for a class. Pure file listing: nothing is read but names.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine.imaging import is_image_name
from engine.imports.pipeline import walk_files

# folder names of images, and of the annotation folder that goes with each
IMAGE_DIR_NAMES = ("images", "image", "imgs", "img")
MASK_DIR_NAMES = ("masks", "mask", "labels", "label", "annotations", "annotation", "annot", "gt")
# what an annotation folder adds to its image folder's name: train -> trainannot, x -> x_masks
MASK_DIR_SUFFIXES = ("annot", "_annot", "_annotations", "_labels", "_label", "_masks", "_mask")
MASK_DIR_SUFFIXES += ("_gt", "labels", "masks", "_seg")
# what an image folder may add to the shared base: train_images + train_masks
IMAGE_DIR_SUFFIXES = ("_images", "_image", "_imgs", "_img", "images", "imgs")
# a mask file's stem is its image's stem plus one of these
MASK_SUFFIXES = ("", "_P", "_mask", "_masks", "_label", "_labels", "_gt", "_seg", "_m")
CLASS_LIST_FILES = ("codes.txt", "classes.txt", "class_names.txt")
VALID_LIST_FILE = "valid.txt"  # fastai's CamVid: the names of the validation images


def split_names() -> dict[str, str]:
    """Folder name -> split; the engine's one list (engine.imports.formats.SPLIT_DIRS)."""
    from engine.imports.formats import SPLIT_DIRS  # formats imports this module's users

    return SPLIT_DIRS


@dataclass
class SegPair:
    """A folder of images and the folder of their masks; `split` from the folder names
    (train/valid/test), None when the automatic split decides."""

    images: Path
    masks: Path
    split: str | None = None

    def describe(self) -> str:
        return f"{self.images.name}+{self.masks.name}" + (f" ({self.split})" if self.split else "")


@dataclass
class SegLayout:
    """Image/annotation folder pairs found in a drop, and the file naming the classes."""

    pairs: list[SegPair]
    class_list: Path | None = None
    valid_list: Path | None = None
    covers: set[Path] = field(default_factory=set)  # dropped paths this layout accounts for

    def describe(self) -> str:
        """One line for the import report: the pairs, and where the class names come from."""
        s = "image/annotation folders " + ", ".join(p.describe() for p in self.pairs)
        if self.class_list is not None:
            s += f"; class names from {self.class_list.name}"
        if self.valid_list is not None:
            s += f"; validation images listed in {self.valid_list.name}"
        return s


def mask_stem_index(masks_dir: Path) -> dict[str, Path]:
    """Mask files of a folder (recursively) by lower-case stem."""
    return {f.stem.lower(): f for f in walk_files(masks_dir) if is_image_name(f)}


def find_mask(image: Path, masks: dict[str, Path]) -> Path | None:
    """The mask of `image` among `masks` (see mask_stem_index): same stem, or stem + _mask..."""
    stem = image.stem.lower()
    return next((m for s in MASK_SUFFIXES if (m := masks.get(stem + s.lower()))), None)


def _subdirs(folder: Path) -> list[Path]:
    try:
        with os.scandir(folder) as it:
            return sorted(
                Path(e.path) for e in it if not e.name.startswith(".") and e.is_dir()
            )  # fmt: skip
    except OSError:
        return []


def _mask_dir_names(name: str) -> list[str]:
    """Names the annotation folder of an image folder called `name` may have."""
    n = name.lower()
    out = list(MASK_DIR_NAMES) if n in IMAGE_DIR_NAMES else []
    bases = [n] + [n[: -len(s)] for s in IMAGE_DIR_SUFFIXES if n.endswith(s) and len(n) > len(s)]
    out += [b + s for b in bases for s in MASK_DIR_SUFFIXES]
    return out


def _base_split(name: str) -> str | None:
    """train_images -> 'train', val -> 'valid', images -> None."""
    n = name.lower()
    for s in ("", *IMAGE_DIR_SUFFIXES):
        if n.endswith(s) and n[: len(n) - len(s)] in split_names():
            return split_names()[n[: len(n) - len(s)]]
    return None


def _any_match(images: Path, masks: Path) -> bool:
    """Whether at least one image of `images` has its mask in `masks`."""
    index = mask_stem_index(masks)
    return bool(index) and any(
        is_image_name(f) and find_mask(f, index) is not None for f in walk_files(images)
    )


def pair_folders(dirs: Sequence[Path], split: str | None = None) -> list[SegPair]:
    """Image/annotation pairs among sibling folders `dirs`; a pair needs at least one image
    whose mask is in the other folder. The split comes from `split` or the folder names."""
    by_name = {d.name.lower(): d for d in dirs}
    used: set[Path] = set()
    pairs: list[SegPair] = []
    for d in sorted(dirs, key=lambda p: p.name.lower()):
        if d in used:
            continue
        for cand in _mask_dir_names(d.name):
            m = by_name.get(cand)
            if m is None or m in used or m == d or not _any_match(d, m):
                continue
            pairs.append(SegPair(d, m, split or _base_split(d.name)))
            used |= {d, m}
            break
    return pairs


def pairs_in(root: Path) -> list[SegPair]:
    """Pairs among the folders of `root`, and among those of its train/ val/ test/ folders."""
    subs = _subdirs(root)
    pairs = pair_folders(subs)
    used = {p for pair in pairs for p in (pair.images, pair.masks)}
    for s in subs:
        split = split_names().get(s.name.lower())
        if split is not None and s not in used:
            pairs += pair_folders(_subdirs(s), split)
    return pairs


def _named_file(folders: Iterable[Path], names: Sequence[str]) -> Path | None:
    for folder in folders:
        for n in names:
            if (f := folder / n).is_file():
                return f
    return None


def detect_segmentation(paths: Iterable[str | os.PathLike]) -> SegLayout | None:
    """The segmentation layout in dropped `paths` (one dataset folder, or sibling image and
    annotation folders, perhaps with a class list file), or None when there is none.

    The class list is a dropped ``codes.txt`` / ``classes.txt``, else one in the dataset folder
    (or, for dropped sibling folders, in their parent folder)."""
    paths = [Path(p) for p in paths]
    dirs = [p for p in paths if p.is_dir()]
    files = [p for p in paths if p.is_file()]
    pairs = pair_folders(dirs) if len(dirs) > 1 else []
    covers = {p for pair in pairs for p in (pair.images, pair.masks)}
    roots = sorted({pair.images.parent for pair in pairs})
    for d in dirs:
        if d not in covers and (inside := pairs_in(d)):
            pairs += inside
            covers.add(d)
            roots.append(d)
    if not pairs:
        return None
    order = {"train": 0, "valid": 1, "test": 2}
    pairs.sort(key=lambda p: (order.get(p.split or "", 3), str(p.images)))
    class_list = next((f for f in files if f.name.lower() in CLASS_LIST_FILES), None)
    if class_list is not None:
        covers.add(class_list)
    else:
        class_list = _named_file(roots, CLASS_LIST_FILES)
    valid_list = _named_file(roots, (VALID_LIST_FILE,))
    if valid_list is not None and any(p.split is not None for p in pairs):
        valid_list = None  # split folders already say which images validate
    return SegLayout(pairs, class_list, valid_list, covers)

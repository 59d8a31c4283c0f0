"""Bring a user's images into a project: class folders, dropped files, CSV labels, labels from
file names, segmentation masks.

Every importer returns an `ImportReport` and follows the same path (`_Run`): count the files
first (so progress has a total), then per file check for cancel, hash it, drop duplicates,
validate it with `engine.imaging.load_rgb`, copy it into ``PROJECT/images/`` (originals are
never touched) and collect it; every `BATCH` files one `project.add_images` transaction commits
the batch. A process killed at any moment leaves a project that opens with every completed
batch. Unusable files are skipped with a reason, reported and kept in the project
(`project.record_skipped`); one bad file never stops an import. On cancel, the files already
copied are committed and `engine.control.Cancelled` is raised.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine.control import Cancelled, RunControl
from engine.events import Progress
from engine.imaging import BadImage, is_image_name, load_mask, load_rgb, mask_values
from engine.project import IGNORE_INDEX, NewImage, Project, ProjectError

BATCH = 500
PROGRESS_INTERVAL_S = 0.05  # at most ~20 progress calls a second
SPLIT_DIRS = {"train": "train", "valid": "valid", "val": "valid", "test": "test"}
MASK_SUFFIXES = ("", "_P", "_mask", "_masks", "_label", "_labels", "_gt", "_seg", "_m")
IGNORED_FILES = {"codes.txt", "thumbs.db", "desktop.ini"}

ProgressFn = Callable[[Progress], None]


@dataclass
class ImportReport:
    added: list[int] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, existing name)

    def summary(self) -> str:
        """One line for a status bar: "Added 120 images; 3 skipped; 2 duplicates"."""
        s = f"Added {len(self.added)} image{'s' if len(self.added) != 1 else ''}"
        if self.skipped:
            s += f"; {len(self.skipped)} skipped"
        if self.duplicates:
            s += f"; {len(self.duplicates)} duplicate{'s' if len(self.duplicates) != 1 else ''}"
        return s

    def merge(self, other: ImportReport) -> None:
        self.added += other.added
        self.skipped += other.skipped
        self.duplicates += other.duplicates


@dataclass
class _Item:
    """One file to import and what the import already knows about it."""

    src: Path
    labels: tuple[str, ...] = ()
    values: list[float] | None = None
    split: str | None = None
    mask_src: Path | None = None
    skip: str | None = None  # a reason known before reading the file


# ---------------------------------------------------------------------- walking
def _walk(folder: Path) -> list[Path]:
    """Every file under `folder`, recursively, sorted, hidden entries left out."""
    out: list[Path] = []
    stack = [folder]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for e in entries:
            if e.name.startswith("."):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    subdirs.append(Path(e.path))
                elif e.is_file():
                    out.append(Path(e.path))
            except OSError:
                continue
        stack.extend(reversed(subdirs))
    return out


def _item_for(path: Path, **kw) -> _Item | None:
    """An item for a walked file; None for files silently ignored (codes.txt, CSVs, ...)."""
    if path.name.lower() in IGNORED_FILES or path.suffix.lower() == ".csv":
        return None
    if not is_image_name(path):
        return _Item(path, skip=f"not an image file (extension {path.suffix or 'none'})")
    return _Item(path, **kw)


# ---------------------------------------------------------------------- the common path
class _Run:
    """Validates, copies and commits items in batches; see the module docstring."""

    def __init__(self, project: Project, control: RunControl | None, on_progress):
        self.p = project
        self.control = control
        self.on_progress = on_progress
        self.report = ImportReport()
        with project._lock:
            rows = project._db.execute("SELECT sha1, name FROM images").fetchall()
        self.seen: dict[str, str] = dict(rows)
        self.taken_images = {n.lower() for n in os.listdir(project.path / "images")}
        self.taken_masks = {n.lower() for n in os.listdir(project.path / "masks")}
        self.pending: list[NewImage] = []
        self.pending_skips: list[tuple[str, str]] = []
        classes = project.classes()
        self.n_classes = len(classes)
        self.class_at = {c.position: c.name for c in classes}  # mask value -> class name
        self._last_progress = 0.0

    def skip(self, path: Path | str, reason: str) -> None:
        self.report.skipped.append((str(path), reason))
        self.pending_skips.append((str(path), reason))

    def progress(self, done: int, total: int, text: str, force: bool = False) -> None:
        if self.on_progress is None:
            return
        now = time.monotonic()
        if force or now - self._last_progress >= PROGRESS_INTERVAL_S:
            self._last_progress = now
            self.on_progress(Progress(done, total, text))

    def run(self, items: Sequence[_Item]) -> ImportReport:
        total = len(items)
        self.progress(0, total, f"Importing {total} files…", force=True)
        try:
            for k, item in enumerate(items):
                if self.control is not None:
                    self.control.check()
                self._one(item)
                if len(self.pending) >= BATCH:
                    self.flush()
                if self.on_progress is not None and (
                    time.monotonic() - self._last_progress >= PROGRESS_INTERVAL_S
                ):
                    self.progress(k + 1, total, f"{k + 1} of {total}: {item.src.name}")
        except Cancelled:
            self.flush()
            raise
        self.flush()
        self.progress(total, total, self.report.summary(), force=True)
        return self.report

    def flush(self) -> None:
        if self.pending:
            self.report.added += self.p.add_images(self.pending)
            self.pending = []
        if self.pending_skips:
            self.p.record_skipped(self.pending_skips)
            self.pending_skips = []

    def _unique(self, name: str, taken: set[str]) -> str:
        stem, ext = os.path.splitext(name)
        cand, n = name, 1
        while cand.lower() in taken:
            n += 1
            cand = f"{stem}_{n}{ext}"
        taken.add(cand.lower())
        return cand

    def _one(self, item: _Item) -> None:
        src = item.src
        if item.skip:
            self.skip(src, item.skip)
            return
        try:
            data = src.read_bytes()
        except OSError as e:
            self.skip(src, f"cannot be read ({e.strerror or e})")
            return
        sha1 = hashlib.sha1(data).hexdigest()
        if sha1 in self.seen:
            self.report.duplicates.append((str(src), self.seen[sha1]))
            return
        try:
            width, height = load_rgb(src, data=data).size
        except BadImage as e:
            self.skip(src, e.reason)
            return
        mask = None
        if item.mask_src is not None:
            mask = self._check_mask(item.mask_src, width, height)
            if isinstance(mask, str):
                self.skip(src, mask)
                return
        try:
            name = self._write_copy(src.name, data)
        except OSError as e:
            self.skip(src, f"cannot be copied into the project ({e.strerror or e})")
            return
        mask_rel = None
        labels = item.labels
        if mask is not None:
            mask_rel = "masks/" + self._unique(Path(name).stem + ".png", self.taken_masks)
            Image.fromarray(mask, "L").save(self.p.path / mask_rel, "PNG")
            # the classes present in the mask are the image's labels (counts, class filter)
            values = mask_values(mask, IGNORE_INDEX)
            labels = tuple(self.class_at[v] for v in values if v in self.class_at)
        self.seen[sha1] = src.name
        self.pending.append(
            NewImage(
                file=f"images/{name}",
                name=src.name,
                source=str(src),
                sha1=sha1,
                width=width,
                height=height,
                labels=labels,
                values=item.values,
                mask=mask_rel,
                split=item.split,
            )
        )

    def _write_copy(self, name: str, data: bytes) -> str:
        """Write the project's copy under a free name (original name, suffix on a clash)."""
        while True:
            name = self._unique(name, self.taken_images)
            try:
                with open(self.p.path / "images" / name, "xb") as f:
                    f.write(data)
                return name
            except FileExistsError:
                continue  # made by someone else since we listed the folder: next suffix

    def _check_mask(self, path: Path, width: int, height: int) -> np.ndarray | str:
        """The mask as class indices, or the reason it cannot be used."""
        try:
            m = load_mask(path)
        except BadImage as e:
            return f"its mask {path.name}: {e.reason}"
        if m.shape != (height, width):
            return (
                f"its mask {path.name} is {m.shape[1]}x{m.shape[0]} pixels "
                f"but the image is {width}x{height}"
            )
        bad = sorted(set(np.unique(m).tolist()) - set(range(self.n_classes)) - {IGNORE_INDEX})
        if bad:
            shown = ", ".join(map(str, bad[:8])) + (" …" if len(bad) > 8 else "")
            return (
                f"its mask {path.name} has values {shown} outside the class list "
                f"(0-{self.n_classes - 1}, 255 = unlabeled)"
            )
        return m


def _finish(
    project: Project, items: Sequence[_Item], control, on_progress, valid_pct, test_pct, seed
) -> ImportReport:
    run = _Run(project, control, on_progress)
    try:
        return run.run(items)
    finally:
        project.assign_splits(valid_pct=valid_pct, test_pct=test_pct, seed=seed)


def _numbers(text: str, what: str) -> list[float] | str:
    """Floats from 'text' (spaces between several), or a reason naming what is wrong."""
    parts = text.replace(";", " ").split()
    if not parts:
        return f"{what} is empty; a regression image needs a number"
    try:
        vals = [float(p) for p in parts]
    except ValueError:
        return f"{what} {text.strip()!r} is not a number"
    if any(v != v or v in (float("inf"), float("-inf")) for v in vals):
        return f"{what} {text.strip()!r} is not a finite number"
    return vals


def _label_kwargs(project: Project, label: str, what: str) -> dict:
    """The _Item fields for one label text under the project's task."""
    label = label.strip()
    if project.task == "regression":
        vals = _numbers(label, what)
        if isinstance(vals, str):
            return {"skip": vals}
        if len(vals) != max(1, len(project.targets)):
            return {
                "skip": f"{what} {label!r} has {len(vals)} numbers; "
                f"this project has {len(project.targets)} target(s)"
            }
        return {"values": vals}
    if project.task == "segmentation" or not label:
        return {}
    if project.task == "multilabel":
        return {"labels": tuple(dict.fromkeys(label.replace(";", " ").split()))}
    return {"labels": (label,)}


# ---------------------------------------------------------------------- public importers
def _folder_items(project: Project, folder: Path, label: str | None = None) -> list[_Item]:
    if label is not None:
        kw = _label_kwargs(project, label, "label")
        return [i for f in _walk(folder) if (i := _item_for(f, **kw))]
    tops = sorted(
        (e for e in folder.iterdir() if e.is_dir() and not e.name.startswith(".")),
        key=lambda e: e.name,
    )
    split_dirs = {e: SPLIT_DIRS[e.name.lower()] for e in tops if e.name.lower() in SPLIT_DIRS}
    items: list[_Item] = []
    for f in sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")):
        if i := _item_for(f):
            items.append(i)  # loose images at the top: unlabeled
    for top in tops:
        split = split_dirs.get(top)
        for f in _walk(top):
            if split is None:
                cls: str | None = top.name
            else:  # train/<class>/x.jpg; images right inside train/ are unlabeled
                rel = f.relative_to(top).parts
                cls = rel[0] if len(rel) > 1 else None
            kw = {} if cls is None else _label_kwargs(project, cls, "folder name")
            if i := _item_for(f, split=split, **kw):
                items.append(i)
    return items


def _any_folder_items(project: Project, folder: Path, label: str | None) -> list[_Item]:
    """Items of a folder for this project's task (a segmentation folder holding images/ and
    masks/ or labels/, plus an optional codes.txt, brings its masks along)."""
    if project.task != "segmentation" or label is not None:
        return _folder_items(project, folder, label)
    sub = {e.name.lower(): e for e in folder.iterdir() if e.is_dir()}
    masks = sub.get("masks") or sub.get("labels")
    if "images" in sub and masks is not None:
        codes = folder / "codes.txt"
        return _seg_items(project, sub["images"], masks, codes if codes.is_file() else None)
    return [i for f in _walk(folder) if (i := _item_for(f))]


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
) -> ImportReport:
    """Import a folder: one subfolder per class (optionally below train/ valid|val/ test/,
    which then fix the split), or loose images (unlabeled). With `label`, every image gets it.
    A segmentation project given a folder holding images/ and masks/ imports the masks too."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ProjectError(f"{folder} is not a folder.")
    items = _any_folder_items(project, folder, label)
    return _finish(project, items, control, on_progress, valid_pct, test_pct, seed)


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
) -> ImportReport:
    """What a drag-and-drop does: files are imported (with `label` if given), folders go
    through `import_folder`. Paths that do not exist are reported as skipped."""
    items: list[_Item] = []
    folders: list[Path] = []
    kw = {} if label is None else _label_kwargs(project, label, "label")
    for p in map(Path, paths):
        if p.is_dir():
            folders.append(p)
        elif p.is_file():
            i = _item_for(p, **kw)
            reason = (
                "a CSV of labels: import it with the CSV importer, not as an image"
                if p.suffix.lower() == ".csv"
                else "not an image file"
            )
            items.append(i if i is not None else _Item(p, skip=reason))
        else:
            items.append(_Item(p, skip="does not exist"))
    for folder in folders:
        items += _any_folder_items(project, folder, label)
    return _finish(project, items, control, on_progress, valid_pct, test_pct, seed)


_FILE_COLS = ("filename", "file", "fname", "image", "image_name", "image_id", "name", "path", "id")
_LABEL_COLS = ("label", "labels", "tags", "target", "class", "category", "y")
_SPLIT_COLS = ("is_valid", "split")


def _find(folder: Path, name: str) -> Path | None:
    """The file a CSV row names: as written, or with a common image extension added."""
    p = folder / name
    if p.is_file():
        return p
    if not Path(name).suffix:
        for ext in (".jpg", ".png", ".jpeg", ".tif", ".bmp", ".webp"):
            if (q := folder / (name + ext)).is_file():
                return q
    return None


def _read_csv(csv_file: Path) -> list[list[str]]:
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ProjectError(f"Cannot read the CSV file {csv_file}: {e}") from e
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(text.splitlines(), dialect) if any(c.strip() for c in r)]
    if not rows:
        raise ProjectError(f"The CSV file {csv_file} is empty.")
    return rows


def _name_targets(
    project: Project, header: list[str] | None, rows: list[list[str]], cols: list[int]
) -> None:
    """Name the regression targets of an empty project from the CSV: the header's column
    names, or value_1.. when the first row holds several numbers."""
    if header and len(cols) > 1:
        project.set_targets([header[k] for k in cols])
    elif header and cols and header[cols[0]].lower() not in _LABEL_COLS:
        project.set_targets([header[cols[0]]])
    else:
        first = _numbers(" ".join(rows[0][k] for k in cols if k < len(rows[0])), "label")
        if isinstance(first, list) and len(first) != len(project.targets):
            project.set_targets([f"value_{k + 1}" for k in range(len(first))])


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
    rows = _read_csv(csv_file)
    head = [c.strip().lower() for c in rows[0]]
    has_header = head[0] in _FILE_COLS or (
        _find(folder, rows[0][0].strip()) is None
        and any(c in _LABEL_COLS + _SPLIT_COLS for c in head)
    )
    split_col = (
        next((k for k, c in enumerate(head) if c in _SPLIT_COLS), None) if has_header else None
    )
    header = [c.strip() for c in rows[0]] if has_header else None
    if has_header:
        rows = rows[1:]
    label_cols = [k for k in range(1, len(head)) if k != split_col]
    if has_header and project.task != "regression":
        named = [k for k, c in enumerate(head) if c in _LABEL_COLS]
        label_cols = named[:1] or label_cols[:1]
    elif project.task != "regression":
        label_cols = label_cols[:1]
    if project.task == "regression" and project.count() == 0 and rows:
        _name_targets(project, header, rows, label_cols)
    items: list[_Item] = []
    for n, row in enumerate(rows, start=2 if has_header else 1):
        name = row[0].strip()
        where = f"{csv_file.name} line {n}"
        src = _find(folder, name) if name else None
        if src is None:
            shown = folder / name if name else csv_file
            items.append(_Item(shown, skip=f"listed in {where} but not found in {folder}"))
            continue
        text = " ".join(row[k] for k in label_cols if k < len(row))
        kw = _label_kwargs(project, text, f"the label in {where}")
        if split_col is not None and split_col < len(row):
            v = row[split_col].strip().lower()
            if v in ("true", "1", "yes", "valid", "val"):
                kw["split"] = "valid"
            elif v in ("false", "0", "no", "train"):
                kw["split"] = "train"
            elif v == "test":
                kw["split"] = "test"
        items.append(_Item(src, **kw))
    return _finish(project, items, control, on_progress, valid_pct, test_pct, seed)


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
) -> ImportReport:
    """Label each image by a part of its file name: the first group of `pattern` (or the group
    named `label`), e.g. ``^(.+)_\\d+\\.jpg$``. Files that do not match are skipped."""
    if project.task == "segmentation":
        raise ProjectError("A segmentation project takes masks, not labels from file names.")
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise ProjectError(f"The pattern {pattern!r} is not a valid regular expression: {e}") from e
    if rx.groups < 1:
        raise ProjectError(
            f"The pattern {pattern!r} needs a group in parentheses around the label, "
            "e.g. ^(.+)_\\d+\\.jpg$"
        )
    folder = Path(folder)
    if not folder.is_dir():
        raise ProjectError(f"{folder} is not a folder.")
    group = "label" if "label" in rx.groupindex else 1
    items: list[_Item] = []
    for f in _walk(folder):
        item = _item_for(f)
        if item is None or item.skip:
            items += [item] if item else []
            continue
        m = rx.search(f.name)
        if m is None or not m.group(group):
            item.skip = f"the file name does not match the pattern {pattern}"
        else:
            kw = _label_kwargs(project, m.group(group), "the label from the file name")
            item = _Item(f, **kw)
        items.append(item)
    return _finish(project, items, control, on_progress, valid_pct, test_pct, seed)


def _read_codes(codes_file: Path) -> list[str]:
    try:
        text = codes_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ProjectError(f"Cannot read the class list {codes_file}: {e}") from e
    codes = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not codes:
        raise ProjectError(f"The class list {codes_file} is empty.")
    if len(set(codes)) != len(codes):
        raise ProjectError(f"The class list {codes_file} names a class twice.")
    if len(codes) > IGNORE_INDEX:
        raise ProjectError(f"The class list {codes_file} has more than {IGNORE_INDEX} classes.")
    return codes


def _seg_items(
    project: Project, images_dir: Path, masks_dir: Path, codes_file: str | os.PathLike | None
) -> list[_Item]:
    """Items for images with their masks; sets up the class list (see import_segmentation)."""
    for d in (images_dir, masks_dir):
        if not d.is_dir():
            raise ProjectError(f"{d} is not a folder.")
    mask_files = {f.stem.lower(): f for f in _walk(masks_dir) if is_image_name(f)}
    existing = project.class_names()
    if codes_file:
        codes = _read_codes(Path(codes_file))
        common = min(len(codes), len(existing))
        if codes[:common] != existing[:common]:
            raise ProjectError(
                f"The class list {codes_file} ({', '.join(codes)}) does not match this "
                f"project's classes ({', '.join(existing)})."
            )
        project.ensure_classes(codes)
    elif not existing:
        top = 0
        for f in mask_files.values():
            try:
                vals = np.unique(load_mask(f))
            except BadImage:
                continue  # reported when its image is imported
            vals = vals[vals != IGNORE_INDEX]
            top = max(top, int(vals.max()) if vals.size else 0)
        project.ensure_classes([f"class_{k}" for k in range(top + 1)])
    items: list[_Item] = []
    for f in _walk(images_dir):
        item = _item_for(f)
        if item is None:
            continue
        if not item.skip:
            stem = f.stem.lower()
            item.mask_src = next(
                (m for suf in MASK_SUFFIXES if (m := mask_files.get(stem + suf.lower()))), None
            )
        items.append(item)
    return items


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
) -> ImportReport:
    """Images and their masks, matched by file stem (the mask may add _P, _mask, _label, ...).
    `codes_file` names the classes by mask value, one per line; without it the classes are
    class_0, class_1, ... up to the largest value found. An image without a mask is imported
    unlabeled; a mask of the wrong size or with values outside the class list skips its image."""
    if project.task != "segmentation":
        raise ProjectError("Masks can only be imported into a segmentation project.")
    items = _seg_items(project, Path(images_dir), Path(masks_dir), codes_file)
    return _finish(project, items, control, on_progress, valid_pct, test_pct, seed)

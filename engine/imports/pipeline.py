"""The path every import follows (see `engine.imports.api`): walk the files, then per file check
for cancel, hash it, drop duplicates, validate it, copy it into ``PROJECT/images/`` (with its
mask into ``PROJECT/masks/``) under a temporary name (engine.imports.copies), and every
`ImportTuning.batch` files give the copies their final names and commit their rows in one
`project.add_images`, so a crash never leaves a row without its file.
Unusable files are skipped with a reason and recorded in the project; on cancel, the files
already copied are committed and `engine.control.Cancelled` is raised. A full, read-only or
failing disk stops the run with one StorageError after committing what it can.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from engine.control import Cancelled, RunControl
from engine.errors import StorageError, shown, storage_error
from engine.events import Progress
from engine.imaging import BadImage, is_image_name, load_mask, load_rgb, mask_values
from engine.imports.copies import Copies
from engine.imports.placeholders import placeholder_reason
from engine.project.store import IGNORE_INDEX, NewImage, Project

IGNORED_FILES = {"codes.txt", "thumbs.db", "desktop.ini"}
STORAGE_ERRNOS = {"ENOSPC", "EDQUOT", "EROFS", "EIO", "EACCES", "EPERM"}  # the project's disk


@dataclass(frozen=True)
class ImportTuning:
    """How an import paces itself; the defaults suit every real import."""

    batch: int = 500  # files committed per project transaction
    progress_interval_s: float = 0.05  # at most ~20 progress calls a second


@dataclass
class ImportReport:
    """What an import did (added, skipped, duplicates) and what it found in the data: the
    task, the layout it recognised, the classes, image+mask pairs, files it could not match,
    images per split, and sentences about choices made for the user (`notes`)."""

    added: list[int] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, existing name)
    task: str = ""
    layout: str = ""  # what was recognised, e.g. "image/annotation folders: train+trainannot"
    classes: list[str] = field(default_factory=list)
    pairs: int = 0  # images added with their mask
    unmatched: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    splits: dict[str, int] = field(default_factory=dict)  # images added per split
    notes: list[str] = field(default_factory=list)  # e.g. the void class, the valid share

    def summary(self) -> str:
        """One line for a status bar: "Added 120 images; 3 skipped; 2 duplicates"."""
        s = f"Added {len(self.added)} image{'s' if len(self.added) != 1 else ''}"
        if self.pairs:
            s += f" ({self.pairs} with masks)"
        if self.skipped:
            s += f"; {len(self.skipped)} skipped"
        if self.duplicates:
            s += f"; {len(self.duplicates)} duplicate{'s' if len(self.duplicates) != 1 else ''}"
        if self.unmatched:
            s += f"; {len(self.unmatched)} unmatched"
        return s

    def details(self, with_classes: bool = True) -> list[str]:
        """Lines on what was found in the data and chosen for the user (after summary())."""
        out = []
        if self.layout:
            out.append(f"Detected {self.task or 'a'} dataset: {self.layout}.")
            if with_classes and self.classes:
                out.append(f"Classes: {', '.join(self.classes)}.")
        if self.splits and (self.layout or self.notes):
            out.append("Added per split: " + ", ".join(f"{k} {n}" for k, n in self.splits.items()))
        return out + self.notes

    def merge(self, other: ImportReport) -> None:
        self.added += other.added
        self.skipped += other.skipped
        self.duplicates += other.duplicates
        self.pairs += other.pairs
        self.unmatched += other.unmatched
        self.notes += [n for n in other.notes if n not in self.notes]
        for k, v in other.splits.items():
            self.splits[k] = self.splits.get(k, 0) + v
        self.task = self.task or other.task
        self.layout = "; ".join(x for x in (self.layout, other.layout) if x)
        self.classes = other.classes or self.classes


@dataclass(frozen=True)
class MaskMap:
    """How a dataset's mask values become the project's: `lut[v]` is the value stored for raw
    value v (a void class -> 255, ISBI's 255 -> 1), `allowed[v]` whether v is valid at all;
    `shown` describes the valid values for an error message."""

    lut: np.ndarray  # uint8[256]
    allowed: np.ndarray  # bool[256]
    shown: str


@dataclass
class ImportItem:
    """One file to import and what the import already knows about it."""

    src: Path
    labels: tuple[str, ...] = ()
    values: list[float] | None = None
    split: str | None = None
    mask_src: Path | None = None
    mask_map: MaskMap | None = None  # None: mask values are the project's class positions
    skip: str | None = None  # a reason known before reading the file


def walk_files(folder: Path) -> list[Path]:
    """Every file under `folder`, recursively, sorted, hidden entries left out. Entries that
    are not regular files (dangling links, link loops, links to folders, FIFOs, devices) and
    empty folders named like an image are listed too, so that `item_for` records why each is
    left out instead of dropping it silently. Links to folders are not followed (no loops)."""
    out: list[Path] = []
    stack = [folder]
    while stack:
        d = stack.pop()
        try:
            with os.scandir(d) as it:
                entries = sorted(
                    (e for e in it if not e.name.startswith(".")), key=lambda e: e.name
                )
        except OSError:
            continue
        if not entries and d != folder and is_image_name(d):
            out.append(d)  # a folder named x.jpg with nothing in it
        subdirs = []
        for e in entries:
            try:
                is_dir = e.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                subdirs.append(Path(e.path))
            else:
                out.append(Path(e.path))
        stack.extend(reversed(subdirs))
    return out


def links_outside(folder: Path, items: Sequence[ImportItem]) -> list[str]:
    """A note naming the files of `items` (images or masks) that are symbolic links to
    somewhere outside `folder`: they are imported (the user named the folder), and said so."""
    root = os.path.realpath(folder)
    found = []
    for it in items:
        for src in (it.src, it.mask_src):
            if src is not None and os.path.islink(src):
                real = os.path.realpath(src)
                if not real.startswith(root.rstrip(os.sep) + os.sep):
                    found.append(f"{shown(src)} -> {shown(real)}")
    if not found:
        return []
    more = f" and {len(found) - 3} more" if len(found) > 3 else ""
    return [
        f"{len(found)} file(s) in {shown(folder)} are links to files outside it, and were "
        f"imported from there: {'; '.join(found[:3])}{more}."
    ]


def not_a_file(path: Path) -> str | None:
    """Why `path` cannot be imported as a file at all (a link loop, a dangling link, a folder,
    a FIFO or device, which would block or fail when read); None for a regular file."""
    try:
        st = path.stat()
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "a symbolic link loop, not a file"
        if path.is_symlink():
            return f"a symbolic link to {os.readlink(path)}, which does not exist"
        return f"cannot be read ({e.strerror or e})"
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        if path.is_symlink():
            return "a link to a folder; links to folders are not followed"
        return "a folder named like an image, with nothing in it"
    kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a socket or device"
    return f"{kind}, not a regular file"


def item_for(path: Path, **kw) -> ImportItem | None:
    """An item for a walked file; None for files silently ignored (codes.txt, CSVs, ...)."""
    if why := not_a_file(path):
        return ImportItem(path, skip=why)
    if path.name.lower() in IGNORED_FILES or path.suffix.lower() == ".csv":
        return None
    if not is_image_name(path):
        return ImportItem(path, skip=f"not an image file (extension {path.suffix or 'none'})")
    return ImportItem(path, **kw)


class ImportRun:
    """Validates, copies and commits items in batches; see the module docstring."""

    def __init__(
        self,
        project: Project,
        control: RunControl | None,
        on_progress,
        *,
        tuning: ImportTuning | None = None,
        report: ImportReport | None = None,
    ):
        tuning = tuning or ImportTuning()
        self.p = project
        self.batch = tuning.batch
        self.interval = tuning.progress_interval_s
        self.control = control
        self.on_progress = on_progress
        self.report = report if report is not None else ImportReport()
        self.seen: dict[str, str] = project.images_by_sha1()
        self.copies = Copies(project.path)
        self.pending: list[NewImage] = []
        self.pending_tmp: list[tuple[Path, Path | None]] = []  # temporary copy, mask copy
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
        if force or now - self._last_progress >= self.interval:
            self._last_progress = now
            self.on_progress(Progress(done, total, text))

    def run(self, items: Sequence[ImportItem]) -> ImportReport:
        total = len(items)
        self.progress(0, total, f"Importing {total} files…", force=True)
        self.copies.reserve()
        try:
            for k, item in enumerate(items):
                if self.control is not None:
                    self.control.check()
                self._one(item)
                if len(self.pending) >= self.batch:
                    self.flush()
                if self.on_progress is not None and (
                    time.monotonic() - self._last_progress >= self.interval
                ):
                    self.progress(k + 1, total, f"{k + 1} of {total}: {item.src.name}")
        except Cancelled:
            self.flush()
            raise
        except StorageError as e:
            self._stopped(e, total)
        finally:
            self.copies.release()
        self.flush()
        self.progress(total, total, self.report.summary(), force=True)
        return self.report

    def _stopped(self, error: StorageError, total: int) -> None:
        """A full or failing disk stopped the run: commit what was copied if the disk still
        lets us, then raise one error saying how far the import got and what to do."""
        self.copies.release()
        try:
            self.flush()
        except StorageError:
            pass  # that batch is rolled back, its copies removed: still consistent
        n = len(self.report.added)
        raise StorageError(
            f"{error} The import stopped: {n} of {total} files were imported and kept. Import "
            "the same files again afterwards: those already imported are recognised and not "
            "copied twice."
        ) from error

    def flush(self) -> None:
        """Name the pending copies and commit their rows: files first, then the rows in one
        transaction, so a crash leaves only files without rows (engine.project.recovery)."""
        if self.pending:
            placed: list[Path] = []
            try:
                for new, (tmp, tmp_mask) in zip(self.pending, self.pending_tmp, strict=True):
                    name = self.copies.place(tmp, "images", Path(new.source).name)
                    new.file = f"images/{name}"
                    placed.append(self.p.path / new.file)
                    if tmp_mask is not None:
                        stem = Path(name).stem + ".png"
                        new.mask = "masks/" + self.copies.place(tmp_mask, "masks", stem)
                        placed.append(self.p.path / new.mask)
                self.report.added += self.p.add_images(self.pending)
            except BaseException as e:
                for path in placed:  # their rows were not committed: no copy without a row
                    path.unlink(missing_ok=True)
                for tmp in (t for pair in self.pending_tmp for t in pair if t is not None):
                    tmp.unlink(missing_ok=True)
                self.pending, self.pending_tmp = [], []
                if isinstance(e, OSError):
                    where = self.p.path / "images"
                    raise storage_error(e, where, "saving imported images") from e
                raise
            self.pending, self.pending_tmp = [], []
        if self.pending_skips:
            self.p.record_skipped(self.pending_skips)
            self.pending_skips = []

    def _one(self, item: ImportItem) -> None:
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
        if why := placeholder_reason(src, width, height):
            self.skip(src, why)
            return
        mask = None
        if item.mask_src is not None:
            mask = self._check_mask(item.mask_src, width, height, item.mask_map)
            if isinstance(mask, str):
                self.skip(src, mask)
                return
        tmp = tmp_mask = None
        try:
            tmp = self.copies.write_temp("images", src.suffix, lambda f: f.write(data))
            if mask is not None:
                img = Image.fromarray(mask, "L")
                tmp_mask = self.copies.write_temp("masks", ".png", lambda f: img.save(f, "PNG"))
        except OSError as e:
            if tmp is not None:
                tmp.unlink(missing_ok=True)
            self._copy_failed(src, e)
            return
        labels = item.labels
        if mask is not None:
            # the classes present in the mask are the image's labels (counts, class filter)
            values = mask_values(mask, IGNORE_INDEX)
            labels = tuple(self.class_at[v] for v in values if v in self.class_at)
            self.report.pairs += 1
        self.seen[sha1] = src.name
        self.pending.append(
            NewImage(
                file="",  # given at flush(), when the copy gets its final name
                name=src.name,
                source=str(src),
                sha1=sha1,
                width=width,
                height=height,
                labels=labels,
                values=item.values,
                split=item.split,
            )
        )
        self.pending_tmp.append((tmp, tmp_mask))

    def _copy_failed(self, src: Path, e: OSError) -> None:
        """A copy into the project failed: a full, read-only or failing disk stops the import
        (what was copied so far is committed by the caller), other errors skip the file."""
        code = errno.errorcode.get(e.errno or 0, "")
        if code not in STORAGE_ERRNOS:
            self.skip(src, f"cannot be copied into the project ({e.strerror or e})")
            return
        err = storage_error(e, self.p.path / "images", "copying images into the project")
        self.skip(src, f"not copied into the project: {e.strerror or e}")
        raise err

    def _check_mask(
        self, path: Path, width: int, height: int, mask_map: MaskMap | None = None
    ) -> np.ndarray | str:
        """The mask as the project's class indices, or the reason it cannot be used."""
        try:
            m = load_mask(path)
        except BadImage as e:
            return f"its mask {path.name}: {e.reason}"
        if m.shape != (height, width):
            return (
                f"its mask {path.name} is {m.shape[1]}x{m.shape[0]} pixels "
                f"but the image is {width}x{height}"
            )
        present = np.flatnonzero(np.bincount(m.ravel(), minlength=256))
        if mask_map is None:
            bad = sorted(set(present.tolist()) - set(range(self.n_classes)) - {IGNORE_INDEX})
            allowed = f"0-{self.n_classes - 1}, 255 = unlabeled"
        else:
            bad = [int(v) for v in present if not mask_map.allowed[v]]
            allowed = mask_map.shown
        if bad:
            shown = ", ".join(map(str, bad[:8])) + (" …" if len(bad) > 8 else "")
            return f"its mask {path.name} has values {shown} outside the class list ({allowed})"
        return m if mask_map is None else mask_map.lut[m]

"""What each kind of import reads: class folders, dropped paths, label CSVs, labels from file
names (segmentation images with masks: `engine.imports.segmentation`). Each turns its input into
`ImportItem`s (one per file, with the labels, targets, split or mask already known, or the reason
to skip it) for the common path in `engine.imports.pipeline`; `engine.imports.api` holds the
public functions.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path, PureWindowsPath

from engine.imports.pipeline import ImportItem, ImportReport, item_for, walk_files
from engine.project.store import Project, ProjectError

# folder name (lower case) -> the split of the images below it (engine.imports.api.SPLIT_DIRS)
SPLIT_DIRS = {"train": "train", "valid": "valid", "val": "valid", "validation": "valid",
              "test": "test"}  # fmt: skip
# value of a CSV's is_valid / split column -> the split
CSV_SPLITS = {"true": "valid", "1": "valid", "yes": "valid", "false": "train", "0": "train",
              "no": "train", **SPLIT_DIRS}  # fmt: skip


def numbers(text: str, what: str) -> list[float] | str:
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


def label_kwargs(project: Project, label: str, what: str) -> dict:
    """The ImportItem fields for one label text under the project's task."""
    label = label.strip()
    if project.task == "regression":
        vals = numbers(label, what)
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


def folder_items(project: Project, folder: Path, label: str | None = None) -> list[ImportItem]:
    if label is not None:
        kw = label_kwargs(project, label, "label")
        return [i for f in walk_files(folder) if (i := item_for(f, **kw))]
    tops = sorted(
        (e for e in folder.iterdir() if e.is_dir() and not e.name.startswith(".")),
        key=lambda e: e.name,
    )
    split_dirs = {e: SPLIT_DIRS[e.name.lower()] for e in tops if e.name.lower() in SPLIT_DIRS}
    items: list[ImportItem] = []
    for f in sorted(p for p in folder.iterdir() if not p.is_dir() and not p.name.startswith(".")):
        if i := item_for(f):
            items.append(i)  # loose images at the top: unlabeled
    for top in tops:
        split = split_dirs.get(top)
        for f in walk_files(top):
            if split is None:
                cls: str | None = top.name
            else:  # train/<class>/x.jpg; images right inside train/ are unlabeled
                rel = f.relative_to(top).parts
                cls = rel[0] if len(rel) > 1 else None
            kw = {} if cls is None else label_kwargs(project, cls, "folder name")
            if i := item_for(f, split=split, **kw):
                items.append(i)
    return items


_FILE_COLS = ("filename", "file", "fname", "image", "image_name", "image_id", "name", "path", "id")
_LABEL_COLS = ("label", "labels", "tags", "target", "class", "category", "y")
_SPLIT_COLS = ("is_valid", "split")


def outside_reason(name: str) -> str | None:
    """Why a listed file name is refused: an absolute path, or `..` leading out of the folder
    being imported (a label file may only name files inside that folder)."""
    if os.path.isabs(name) or PureWindowsPath(name).is_absolute() or name.startswith(("/", "\\")):
        return f"{name!r} is an absolute path; list files relative to the images folder"
    if os.path.normpath(name.replace("\\", "/")).split(os.sep)[0] == "..":
        return f"{name!r} points outside the images folder"
    return None


def find_listed(folder: Path, name: str) -> Path | None:
    """The file a CSV row names: as written, or with a common image extension added. A name
    no file can have (too long, a NUL) names no file."""
    candidates = [folder / name]
    if not Path(name).suffix:
        candidates += [
            folder / (name + ext) for ext in (".jpg", ".png", ".jpeg", ".tif", ".bmp", ".webp")
        ]
    for p in candidates:
        try:
            if p.is_file():
                return p
        except (OSError, ValueError):
            return None
    return None


def read_csv(csv_file: Path) -> list[list[str]]:
    try:
        text = csv_file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ProjectError(f"Cannot read the CSV file {csv_file}: {e}") from e
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(), dialect)
    try:
        rows = [r for r in reader if any(c.strip() for c in r)]
    except csv.Error as e:  # a NUL byte, a field over csv's size limit, ...
        raise ProjectError(
            f"Cannot read the CSV file {csv_file}: line {reader.line_num}: {e}"
        ) from e
    if not rows:
        raise ProjectError(f"The CSV file {csv_file} is empty.")
    return rows


def name_targets(
    project: Project, header: list[str] | None, rows: list[list[str]], cols: list[int]
) -> None:
    """Name the regression targets of an empty project from the CSV: the header's column
    names, or value_1.. when the first row holds several numbers."""
    if header and len(cols) > 1:
        project.set_targets([header[k] for k in cols])
    elif header and cols and header[cols[0]].lower() not in _LABEL_COLS:
        project.set_targets([header[cols[0]]])
    else:
        first = numbers(" ".join(rows[0][k] for k in cols if k < len(rows[0])), "label")
        if isinstance(first, list) and len(first) != len(project.targets):
            project.set_targets([f"value_{k + 1}" for k in range(len(first))])


def csv_items(
    project: Project, csv_file: Path, folder: Path, report: ImportReport | None = None
) -> list[ImportItem]:
    """Items for the rows of a labels CSV (see engine.imports.api.import_csv). Rows naming a
    file outside `folder`, or no file found, are skipped with their line number; rows with no
    label and conflicting repeats of a file are listed in `report.notes`."""
    rows = read_csv(csv_file)
    head = [c.strip().lower() for c in rows[0]]
    has_header = head[0] in _FILE_COLS or (
        (outside_reason(rows[0][0].strip()) or find_listed(folder, rows[0][0].strip())) is None
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
        name_targets(project, header, rows, label_cols)
    items: list[ImportItem] = []
    seen: dict[Path, tuple[int, str]] = {}  # file -> (first line, its label text)
    no_label: list[int] = []
    for n, row in enumerate(rows, start=2 if has_header else 1):
        name = row[0].strip()
        where = f"{csv_file.name} line {n}"
        if name and (why := outside_reason(name)):
            items.append(ImportItem(Path(name), skip=f"listed in {where} but refused: {why}"))
            continue
        src = find_listed(folder, name) if name else None
        if src is None:
            shown = folder / name if name else csv_file
            what = f"not found in {folder}" if name else "names no file"
            items.append(ImportItem(shown, skip=f"listed in {where} but {what}"))
            continue
        text = " ".join(row[k] for k in label_cols if k < len(row))
        if src in seen:
            first, before = seen[src]
            if " ".join(before.split()) != " ".join(text.split()):
                items.append(ImportItem(src, skip=(
                    f"{where}: {name} listed again with label {text.strip()!r}; line {first} "
                    f"gave {before.strip()!r}, which is kept")))  # fmt: skip
            continue
        seen[src] = (n, text)
        if not text.strip() and project.task not in ("regression", "segmentation"):
            no_label.append(n)
        kw = label_kwargs(project, text, f"the label in {where}")
        if split_col is not None and split_col < len(row):
            split = CSV_SPLITS.get(row[split_col].strip().lower())
            if split is not None:
                kw["split"] = split
        items.append(ImportItem(src, **kw))
    if no_label and report is not None:
        shown = ", ".join(map(str, no_label[:20])) + (", ..." if len(no_label) > 20 else "")
        report.notes.append(
            f"{csv_file.name}: {len(no_label)} row{'s' if len(no_label) != 1 else ''} with no "
            f"label (line{'s' if len(no_label) != 1 else ''} {shown}) imported unlabeled."
        )
    return items


def regex_items(project: Project, folder: Path, pattern: str) -> list[ImportItem]:
    """Items labelled by a part of their file name (see engine.imports.api.import_regex)."""
    try:
        rx = re.compile(pattern)
    except re.error as e:
        raise ProjectError(f"The pattern {pattern!r} is not a valid regular expression: {e}") from e
    if rx.groups < 1:
        raise ProjectError(
            f"The pattern {pattern!r} needs a group in parentheses around the label, "
            "e.g. ^(.+)_\\d+\\.jpg$"
        )
    if not folder.is_dir():
        raise ProjectError(f"{folder} is not a folder.")
    group = "label" if "label" in rx.groupindex else 1
    items: list[ImportItem] = []
    for f in walk_files(folder):
        item = item_for(f)
        if item is None or item.skip:
            items += [item] if item else []
            continue
        m = rx.search(f.name)
        if m is None or not m.group(group):
            item.skip = f"the file name does not match the pattern {pattern}"
        else:
            kw = label_kwargs(project, m.group(group), "the label from the file name")
            item = ImportItem(f, **kw)
        items.append(item)
    return items

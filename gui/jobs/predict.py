"""Prediction jobs run on the bridge's worker thread (no widgets here, plain values out).

The loaded `engine.predict.predictor.Predictor` is kept in a dict the page owns, so the model is
read from disk once, not per drop. A bad file becomes an entry with its reason; the rest go on.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

from engine.events import Progress, Skipped
from engine.imaging import is_image_name


def expand_paths(paths: list[str]) -> list[str]:
    """Image files among `paths`; folders are searched (recursively, sorted)."""
    out: list[str] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(str(f) for f in p.rglob("*") if f.is_file() and is_image_name(f))
        elif p.is_file() and is_image_name(p):
            out.append(str(p))
    return out


def _predictor(cache: dict, project_path: str):
    if "predictor" not in cache:
        from engine.predict.predictor import Predictor

        cache["predictor"] = Predictor.from_path(project_path)
    return cache["predictor"]


def _truth_mask(project, path: str):
    """The ground-truth mask when this very image (same content) is in the project."""
    from engine.imaging import file_sha1, load_mask

    if project is None or project.task != "segmentation":
        return None
    sha1 = file_sha1(path)
    name = project.has_sha1(sha1)
    if name is None:
        return None
    for rec in project.images(project.query(name_contains=name)):
        if rec.sha1 == sha1 and rec.mask:
            try:
                return load_mask(project.abspath(rec.mask))
            except (OSError, ValueError):
                return None
    return None


def predict_files_job(job, project_path: str, files: list[str], cache: dict, project=None):
    """[(path, Prediction | None, error message, ground-truth mask | None)] for each file."""
    predictor = _predictor(cache, project_path)
    out = []
    for i, path in enumerate(files):
        job.control.check()
        try:
            pred = predictor.predict(path)
        except (ValueError, OSError) as e:  # BadImage is a ValueError naming file + reason
            out.append((path, None, str(e), None))
        else:
            out.append((path, pred, "", _truth_mask(project, path)))
        job.emit(Progress(i + 1, len(files), f"Predicted {i + 1} of {len(files)}"))
    return out


def _header(predictor) -> list[str]:
    names = predictor.output_names
    if predictor.task == "classification":
        return ["file", "label", "probability", *[f"p_{n}" for n in names], "error"]
    if predictor.task == "multilabel":
        return ["file", "labels", *[f"p_{n}" for n in names], "error"]
    if predictor.task == "regression":
        return ["file", *names, "error"]
    return ["file", "mask", *[f"fraction_{n}" for n in names], "error"]


def _row(predictor, pred, mask_file: str) -> list:
    names = predictor.output_names
    if predictor.task == "classification":
        probs = [round(pred.probs.get(n, 0.0), 6) for n in names]
        return [pred.path, pred.label, round(pred.probs.get(pred.label, 0.0), 6), *probs, ""]
    if predictor.task == "multilabel":
        probs = [round(pred.probs.get(n, 0.0), 6) for n in names]
        return [pred.path, ";".join(pred.labels), *probs, ""]
    if predictor.task == "regression":
        return [pred.path, *[round(v, 6) for v in pred.values], ""]
    fr = [round(pred.class_fractions.get(n, 0.0), 6) for n in names]
    return [pred.path, mask_file, *fr, ""]


def predict_folder_job(
    job, project_path: str, folder: str, csv_path: str, cache: dict, colors: list[str]
):
    """Predict every image under `folder`; write `csv_path` (+ masks in a folder beside it for
    segmentation). Returns (number predicted, [Skipped], csv path)."""
    predictor = _predictor(cache, project_path)
    files = expand_paths([folder])
    if not files:
        raise ValueError(f"{folder} holds no image files (jpg, png, bmp, tif, webp, …).")
    csv_path = str(Path(csv_path))
    masks_dir = Path(csv_path).with_name(Path(csv_path).stem + "_masks")
    tmp = f"{csv_path}.{os.getpid()}.tmp"
    try:
        with open(tmp, "w", newline="", encoding="utf-8") as f:
            done, skipped = _write(job, predictor, files, f, masks_dir, colors)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # a stopped run leaves no half-written CSV
        raise
    os.replace(tmp, csv_path)
    return done - len(skipped), skipped, csv_path


def _write(job, predictor, files: list[str], f, masks_dir: Path, colors: list[str]):
    from engine.predict.predictor import save_mask_png

    header = _header(predictor)
    writer = csv.writer(f)
    writer.writerow(header)
    used: set[str] = set()
    skipped: list[Skipped] = []
    done = 0

    def on_item(item) -> None:
        nonlocal done
        done += 1
        if isinstance(item, Skipped):
            skipped.append(item)
            writer.writerow([item.path] + [""] * (len(header) - 2) + [item.reason])
        else:
            mask_file = ""
            if item.mask is not None:
                name = Path(item.path).stem
                while name in used:
                    name += "_"
                used.add(name)
                mask_file = str(save_mask_png(item.mask, masks_dir / f"{name}.png", colors))
            writer.writerow(_row(predictor, item, mask_file))
        job.emit(Progress(done, len(files), f"Predicted {done} of {len(files)}"))

    predictor.predict_many(files, control=job.control, on_item=on_item)
    return done, skipped

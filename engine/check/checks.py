"""The data health check of a project: `run_check(project) -> CheckReport` (no Qt, no torch).

Looks for what makes a validation score lie or a model learn the wrong thing: duplicates across
the train/validation split (leakage), duplicates with different labels, class imbalance, classes
too small to validate, images much smaller than the training size, extreme aspect ratios, a mix
of grey and colour images, unlabeled images, one-class masks, and (after training) likely label
mistakes from models/evaluation.json (and, on request, among the training images:
engine.check.training_labels runs the model). Only the duplicate search decodes images (small,
cached: see engine.check.hashing); everything else reads the database.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import numpy as np

from engine.check.hashing import NEAR_BITS, hash_images, near_groups
from engine.check.report import CheckReport, Finding, Fix

MIN_VALID_PER_CLASS = 5  # fewer validation images than this: the class's score is noise
IMBALANCE_RATIO = 3.0  # largest / smallest class at or above this: offer a balanced loss
SMALL_FRACTION = 0.5  # shorter side below this fraction of the training size: "small"
ASPECT_LIMIT = 3.0  # long side / short side above this: squishing to a square distorts it
CONFIDENT = 0.8  # a wrong prediction at least this sure: a likely label mistake
MAX_MISTAKES = 100


def run_check(
    project,
    *,
    image_size: int | None = None,
    control=None,
    on_progress: Callable[[int, int, str], None] | None = None,
    training_labels: bool = False,
    model_duplicates: bool = True,
) -> CheckReport:
    """Check `project`; `control.check()` (pause / cancel) runs between steps and every few
    hundred decodes, `on_progress(done, total, text)` reports the decode stage. With
    `training_labels`, the model in use also checks the training images' labels
    (engine.check.training_labels: one forward pass per image, torch). With
    `model_duplicates` and a model in use, near copies are also found by the model's image
    embeddings (engine.check.embeddings: one forward pass per image)."""
    from engine.config import TrainConfig

    t0 = time.perf_counter()
    check = control.check if control is not None else (lambda: None)
    report = on_progress or (lambda _d, _t, _s: None)
    size = image_size or TrainConfig.from_dict(project.load_settings()).image_size
    task = project.task
    report(0, 0, "Reading the project")
    recs = project.images()
    check()
    findings: list[Finding] = []
    stats: dict = {"image_size": size}
    if not recs:
        findings.append(Finding("empty", "high", "The project has no images",
                                "Import images before checking or training."))  # fmt: skip
        return CheckReport(task, 0, time.perf_counter() - t0, findings, stats)

    cache, bad = hash_images(
        project.path,
        [(r.sha1, r.file) for r in recs],
        check=check,
        progress=lambda d, t: report(d, t, "Hashing images"),
    )
    check()
    report(1, 1, "Comparing")
    by_file = {r.file: r.id for r in recs}
    if bad:
        ids = [by_file[f] for f, _ in bad if f in by_file]
        findings.append(Finding("unreadable", "high", f"{len(ids)} image(s) cannot be read",
                                "; ".join(f"{f}: {why}" for f, why in bad[:5]), ids))  # fmt: skip
    findings += _duplicates(recs, cache, task)
    check()
    if model_duplicates:  # engine.check.embeddings: crops and recolourings dHash misses
        from engine.check.embeddings import embedding_duplicates

        say = "Comparing images with the model"
        findings += embedding_duplicates(
            project, recs, cache, check=check, progress=lambda d, t: report(d, t, say)
        )
    findings += _classes(project, recs, task)
    findings += _sizes(recs, size)
    findings += _mask_sizes(project, recs) if task == "segmentation" else []
    findings += _color_mix(recs, cache)
    findings += _unlabeled(recs, task)
    findings += _label_mistakes(project, recs)
    if training_labels:
        from engine.check.training_labels import training_label_mistakes

        findings += training_label_mistakes(
            project,
            recs,
            check=check,
            progress=lambda d, t: report(d, t, "Checking training labels with the model"),
        )
    order = {s: i for i, s in enumerate(("high", "medium", "info"))}
    findings.sort(key=lambda f: order[f.severity])
    stats["hashes"] = len(cache)
    stats["per_split"] = dict(Counter(r.split for r in recs))
    return CheckReport(task, len(recs), time.perf_counter() - t0, findings, stats)


def _has_label(task: str, r) -> bool:
    if task == "regression":
        return r.values is not None
    if task == "segmentation":
        return r.mask is not None
    return bool(r.labels)


def _duplicates(recs, cache, task: str) -> list[Finding]:
    """Exact (same bytes) and near (dHash) duplicate groups; leakage; conflicting labels."""
    ok = [r for r in recs if r.sha1 in cache]
    if len(ok) < 2:
        return []
    hashes = np.array([cache[r.sha1][0] for r in ok], dtype=np.uint64)
    labels = near_groups(hashes, NEAR_BITS)
    members: dict[int, list] = {}
    for r, g in zip(ok, labels.tolist(), strict=True):
        members.setdefault(g, []).append(r)
    groups = [g for g in members.values() if len(g) > 1]
    groups.sort(key=len, reverse=True)
    out: list[Finding] = []
    leaky = [g for g in groups if len({r.split for r in g}) > 1]
    if leaky:
        moves: dict[int, str] = {}
        for g in leaky:
            split_counts = Counter(r.split for r in g)
            target = max(split_counts, key=lambda s: (split_counts[s], s == "train"))
            moves.update({r.id: target for r in g if r.split != target})
        ids = [r.id for g in leaky for r in g]
        out.append(Finding(
            "leakage", "high",
            f"{len(leaky)} duplicate group(s) sit on both sides of the train/validation split",
            "The model is scored on images it trained on (or near copies), so the validation "
            "score is too good. Move each group into one split.",
            ids, [[r.id for r in g] for g in leaky],
            {r.id: r.split for g in leaky for r in g},
            Fix("set_split", "Move each group to one split", {"moves": moves}),
        ))  # fmt: skip
    if task in ("classification", "multilabel"):
        clash = [g for g in groups if len({r.labels for r in g if r.labels}) > 1]
        if clash:
            out.append(Finding(
                "conflicting_labels", "high",
                f"{len(clash)} group(s) of (near) identical images carry different labels",
                "The same picture is taught as two different answers; pick the right label.",
                [r.id for g in clash for r in g], [[r.id for r in g] for g in clash],
                {r.id: ", ".join(r.labels) or "(unlabeled)" for g in clash for r in g},
            ))  # fmt: skip
    n_exact = sum(len(g) - len({r.sha1 for r in g}) for g in groups)
    out.append(Finding(
        "duplicates", "medium" if len(groups) > 0 else "info",
        f"{len(groups)} group(s) of duplicate or near-duplicate images "
        f"({sum(len(g) for g in groups)} images; {n_exact} exact copies)",
        f"Near: perceptual hashes (dHash) differing in at most {NEAR_BITS} of 64 bits. "
        "Duplicates weigh those images more in training; remove copies you do not want.",
        [r.id for g in groups for r in g], [[r.id for r in g] for g in groups],
    ))  # fmt: skip
    return out if groups else [f for f in out if f.kind != "duplicates"]


def _classes(project, recs, task: str) -> list[Finding]:
    """Imbalance (with a balanced-loss fix), classes too small to validate, one-class masks."""
    if task == "regression":
        return []
    names = project.class_names()
    out: list[Finding] = []
    if len(names) < 2 and task != "multilabel":
        out.append(Finding("one_class", "high", "The project has fewer than two classes",
                           "A classifier needs at least two classes to tell apart."))  # fmt: skip
    labeled = [r for r in recs if _has_label(task, r)]
    per_class = Counter(n for r in labeled for n in r.labels)
    per_valid = Counter(n for r in labeled if r.split == "valid" for n in r.labels)
    counts = {n: per_class.get(n, 0) for n in names}
    used = {n: c for n, c in counts.items() if c > 0}
    if len(used) >= 2:
        big, small = max(used, key=used.get), min(used, key=used.get)
        ratio = used[big] / used[small]
        if ratio >= IMBALANCE_RATIO:
            setting = "weighted_loss"
            out.append(Finding(
                "imbalance", "medium",
                f"Classes are imbalanced: {big} has {ratio:.1f}x as many images as {small}",
                "A model can score well by mostly answering the big class. A class-weighted "
                "loss makes each class count the same (a balanced sampler is the other option "
                "in the training settings). Counts: "
                + ", ".join(f"{n} {c}" for n, c in sorted(used.items(), key=lambda kv: -kv[1])),
                [], fix=Fix("train_setting", "Use a class-weighted loss",
                            {"key": "balance", "value": setting}),
            ))  # fmt: skip
    if any(r.split == "valid" for r in recs):
        few = [n for n in names if per_valid.get(n, 0) < MIN_VALID_PER_CLASS]
        if few:
            out.append(Finding(
                "too_few_to_validate", "medium",
                f"{len(few)} class(es) have fewer than {MIN_VALID_PER_CLASS} validation images",
                "Their validation score rests on a handful of images and can swing widely. "
                "Label more images of: " + ", ".join(f"{n} ({per_valid.get(n, 0)})" for n in few),
                [r.id for r in labeled if set(r.labels) & set(few)],
            ))  # fmt: skip
    if task == "segmentation":
        one = [r for r in recs if r.mask is not None and _mask_classes(project, r) <= 1]
        if one:
            out.append(Finding(
                "single_class_masks", "medium", f"{len(one)} mask(s) contain only one class",
                "A mask of a single class (often all background) teaches little and may be an "
                "unfinished mask; check it.", [r.id for r in one],
                notes={r.id: ", ".join(r.labels) or "(empty)" for r in one},
            ))  # fmt: skip
    return out


def _mask_classes(project, r) -> int:
    """Classes in a mask: from its labels, or read from the file when they were not recorded."""
    if r.labels:
        return len(r.labels)
    from engine.imaging import BadImage, load_mask, mask_values

    try:
        return len([v for v in mask_values(load_mask(project.mask_path(r))) if v != 255])
    except (BadImage, OSError):
        return 2  # unreadable masks are training's to report, not counted here


def _mask_sizes(project, recs) -> list[Finding]:
    """Masks that do not match their image pixel for pixel (training refuses them; they are
    never resized). Reads only each PNG's header."""
    from PIL import Image

    from engine.imaging import BadImage, mask_size_problem

    wrong: dict[int, str] = {}
    for r in recs:
        if r.mask is None:
            continue
        try:
            path = project.mask_path(r)
            with Image.open(path) as im:
                w, h = im.size
        except (BadImage, OSError, ValueError):
            continue  # unreadable: training reports it
        if (w, h) != (r.width, r.height):
            wrong[r.id] = mask_size_problem(r.mask, (h, w), r.name, (r.width, r.height))
    if not wrong:
        return []
    return [Finding(
        "mask_size", "high", f"{len(wrong)} mask(s) do not match their image's size",
        "; ".join(list(wrong.values())[:3]) + ". Training refuses them: repaint them, or remove "
        "the images and import them again with masks of the right size.",
        list(wrong), notes=wrong,
    )]  # fmt: skip


def _sizes(recs, size: int) -> list[Finding]:
    out: list[Finding] = []
    small = [r for r in recs if min(r.width, r.height) < SMALL_FRACTION * size]
    if small:
        out.append(Finding(
            "small_images", "info",
            f"{len(small)} image(s) are much smaller than the training size ({size} px)",
            f"Their shorter side is under {int(SMALL_FRACTION * size)} px, so training blows "
            "them up and they look blurry to the model; use a smaller training size or "
            "larger images.", [r.id for r in small],
            notes={r.id: f"{r.width}x{r.height}" for r in small},
        ))  # fmt: skip
    wide = [r for r in recs if max(r.width, r.height) > ASPECT_LIMIT * min(r.width, r.height)]
    if wide:
        out.append(Finding(
            "aspect_ratio", "info", f"{len(wide)} image(s) have an extreme aspect ratio",
            f"Longer than {ASPECT_LIMIT:g}:1; squished to a square for training, their content "
            "is distorted. Crop them if the subject is small.",
            [r.id for r in wide], notes={r.id: f"{r.width}x{r.height}" for r in wide},
        ))  # fmt: skip
    return out


def _color_mix(recs, cache) -> list[Finding]:
    gray = [r for r in recs if r.sha1 in cache and cache[r.sha1][1]]
    color = [r for r in recs if r.sha1 in cache and not cache[r.sha1][1]]
    if not gray or not color:
        return []
    few, kind = (gray, "grey") if len(gray) <= len(color) else (color, "colour")
    return [Finding(
        "gray_color_mix", "info", f"{len(gray)} grey and {len(color)} colour images are mixed",
        f"The {len(few)} {kind} image(s) are shown here. If grey images come from one class or "
        "one source, the model may learn colour instead of content.", [r.id for r in few],
    )]  # fmt: skip


def _unlabeled(recs, task: str) -> list[Finding]:
    ids = [r.id for r in recs if not _has_label(task, r)]
    if not ids:
        return []
    return [Finding("unlabeled", "info", f"{len(ids)} image(s) are unlabeled",
                    "Training leaves them out. Label them, or let the model rank the most "
                    "useful ones to label first.", ids)]  # fmt: skip


def _label_mistakes(project, recs) -> list[Finding]:
    """After training: wrong, confident predictions with the highest loss (evaluation.json);
    for multi-label, a label the model is confidently sure is missing, or absent but there."""
    from engine.training.evaluation import load_evaluation

    ev = load_evaluation(project)
    if ev is None or ev.task not in ("classification", "multilabel"):
        return []
    alive = {r.id: r for r in recs}
    cands = []
    for it in ev.most_wrong():
        r = alive.get(it.image_id)
        if r is None or it.correct or not it.probabilities or it.prediction is None:
            continue
        if ev.task == "multilabel":
            doubt = _label_doubts(it, r, ev.class_names)
            if doubt:
                cands.append((it, doubt))
            continue
        conf = max(it.probabilities)
        if conf >= CONFIDENT and it.target in r.labels:  # label unchanged since the evaluation
            cands.append((it, f"labelled {it.target}, model says {it.prediction} ({conf:.0%})"))
    if not cands:
        return []
    cands = cands[:MAX_MISTAKES]
    return [Finding(
        "label_mistakes", "medium", f"{len(cands)} validation image(s) may be mislabeled",
        f"The model is at least {CONFIDENT:.0%} sure of a different answer; highest loss "
        "first. Check the label (or the image).", [it.image_id for it, _ in cands],
        notes={it.image_id: note for it, note in cands},
    )]  # fmt: skip


def _label_doubts(it, r, names: list[str]) -> str:
    """Multi-label: the labels the model confidently disputes, or "" (also when the image's
    labels changed since the evaluation)."""
    if set(it.target or ()) != set(r.labels):
        return ""
    said = []
    for name, p in zip(names, it.probabilities, strict=False):
        if name in r.labels and p <= 1 - CONFIDENT:
            said.append(f"no {name} ({p:.0%})")
        elif name not in r.labels and p >= CONFIDENT:
            said.append(f"{name} ({p:.0%})")
    if not said:
        return ""
    return f"labelled {', '.join(r.labels) or '(none)'}, model says {', '.join(said)}"

"""The import report's line on split folders: which of the data's own folders (train/, val/,
test/ …) were taken as the training, validation and test splits, so nobody wonders whether
val/ became a class or was mixed into training."""

from __future__ import annotations

from collections.abc import Sequence

from engine.imports.formats import SPLIT_DIRS

WORDS = {"train": "training", "valid": "validation", "test": "test"}


def split_folders_note(items: Sequence, splits: dict[str, int]) -> str:
    """ "train/ and val/ were used as the training and validation splits (train 240, valid 150)."
    for items whose split came from a folder name ("" when none did)."""
    used: dict[str, str] = {}  # folder name as written -> split
    for it in items:
        if it.split is None or it.skip:
            continue
        for part in reversed(it.src.parent.parts):
            if SPLIT_DIRS.get(part.lower()) == it.split:
                used.setdefault(part, it.split)
                break
    if not used:
        return ""
    order = sorted(used, key=lambda f: list(WORDS).index(used[f]))
    folders = " and ".join(f"{f}/" for f in order)
    kinds = [WORDS[used[f]] for f in order]
    what = " and ".join(kinds) + (" splits" if len(kinds) > 1 else " split")
    counts = ", ".join(f"{s} {splits[s]}" for s in WORDS if s in splits)
    verb = "were" if len(order) > 1 else "was"
    return f"{folders} {verb} used as the {what}" + (f" ({counts})." if counts else ".")

"""Files that open as images but are not photos of anything: the "image not found" placeholders
that downloaded data sets carry (hymenoptera's imageNotFound.gif, which had come in as an ant)
and tracking-pixel-sized images. The import skips them with a reason a person can read."""

from __future__ import annotations

import re
from pathlib import Path

PLACEHOLDER_NAMES = {
    "imagenotfound", "notfound", "noimage", "placeholder", "imageunavailable",
    "photounavailable", "imagenotavailable", "unavailable", "missing", "removed",
}  # fmt: skip
MIN_SIDE = 8  # pixels; smaller is a spacer or tracking pixel, not a picture


def placeholder_reason(path: Path, width: int, height: int) -> str:
    """Why `path` is not a real image ("" when it looks like one)."""
    key = re.sub(r"[^a-z]", "", Path(path).stem.lower())
    if key in PLACEHOLDER_NAMES:
        return "a placeholder (“image not found”), not a photo"
    if min(width, height) < MIN_SIDE:
        return f"too small to be a picture ({width} × {height} px)"
    return ""

"""Thumbnail disk cache: PROJECT/thumbs/<sha1>_<size>.jpg, made once, reused forever.

Keyed by content (sha1) and size, so a renamed or re-imported image reuses its thumbnail and a
changed file never shows a stale one. Written atomically (temp file + rename), so concurrent
callers on several threads at worst do the same work twice and never see a half-written file.
The cache is disposable: deleting thumbs/ only costs the time to remake it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PIL import Image

from engine.atomic import write_file
from engine.imaging import load_rgb
from engine.project.paths import inside
from engine.project.store import ImageRecord, Project

THUMBS_DIR = "thumbs"
JPEG_QUALITY = 85


def thumbnail_path(project: Project, record: ImageRecord, size: int = 128) -> Path:
    """Where the thumbnail of `record` at `size` lives (it may not exist yet); named by the
    stored content hash, so checked like every stored path (OutsideProjectError)."""
    what = f"the content hash of image {record.id}"
    return inside(project.path, f"{THUMBS_DIR}/{record.sha1}_{int(size)}.jpg", what)


def thumbnail(project: Project, record: ImageRecord, size: int = 128) -> Path:
    """Path of a cached JPEG thumbnail (longest side <= size) of the record's image.

    Raises engine.imaging.BadImage (naming file and problem) if the image cannot be read.
    """
    out = thumbnail_path(project, record, size)
    if out.is_file():
        return out
    if project.read_only:  # the project's thumbs/ cannot be written: a cache outside it
        out = Path(tempfile.gettempdir()) / "topdown-thumbs" / out.name
        if out.is_file():
            return out
    return make_thumbnail(project.image_path(record), out, size)


def make_thumbnail(src: str | os.PathLike, out: Path, size: int = 128) -> Path:
    """Render `src` (upright RGB) into the JPEG `out`, atomically."""
    im = load_rgb(src, draft=size)
    if im.width > size or im.height > size:
        im.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_file(out, lambda f: im.save(f, "JPEG", quality=JPEG_QUALITY), durable=False)
    return out


def clear_thumbnails(project: Project) -> int:
    """Delete every cached thumbnail; returns how many files were removed."""
    n = 0
    folder = project.path / THUMBS_DIR
    if folder.is_dir():
        for entry in os.scandir(folder):
            if entry.is_file():
                try:
                    os.unlink(entry.path)
                    n += 1
                except OSError:
                    pass
    return n

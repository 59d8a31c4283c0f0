"""Reading images safely: every odd file becomes either a correct RGB image or a clear error.

Handles EXIF rotation, palette / CMYK / 16-bit / grayscale / alpha modes, truncated and
corrupt files, zero-byte and non-image files, and decompression bombs. Pure Pillow + numpy.
"""

from __future__ import annotations

import hashlib
import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from engine.errors import shown

# Pillow warns past MAX_IMAGE_PIXELS and raises past twice that; we refuse past the limit.
MAX_PIXELS = 89_478_485
_LIMIT = f"the limit is {MAX_PIXELS:,} pixels, a guard against decompression bombs"
IMAGE_EXTENSIONS = {
    ".jpg",
    ".jpeg",
    ".png",
    ".bmp",
    ".gif",
    ".tif",
    ".tiff",
    ".webp",
    ".ppm",
    ".pgm",
    ".jfif",
}


class BadImage(ValueError):
    """An image file that cannot be used. str() names the file and the problem."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{shown(self.path)}: {reason}")


def is_image_name(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def file_sha1(path: str | os.PathLike) -> str:
    """Hex SHA-1 of a file's bytes (how a project recognises an image it already holds)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha1").hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes (weights downloads, exported model cards)."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _open(path: str | os.PathLike, draft: int | None = None, data: bytes | None = None):
    p = Path(path)
    try:
        size = p.stat().st_size if data is None else len(data)
    except OSError as e:
        raise BadImage(p, f"cannot be read ({e.strerror or e})") from e
    if size == 0:
        raise BadImage(p, "the file is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(p if data is None else io.BytesIO(data))
            w, h = im.size
            if w * h > MAX_PIXELS:
                raise BadImage(p, f"image is too large ({w}x{h} pixels; {_LIMIT})")
            if draft and im.format == "JPEG":
                im.draft("RGB", (draft, draft))  # decode at reduced scale: fast thumbnails
            im.load()
    except BadImage:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
        raise BadImage(p, f"image is too large ({_LIMIT})") from e
    except UnidentifiedImageError as e:
        raise BadImage(p, "not an image file, or a format Topdown cannot read") from e
    except OSError as e:
        msg = str(e)
        if "truncated" in msg.lower():
            raise BadImage(p, "the image is truncated (the file is incomplete)") from e
        raise BadImage(p, f"the image is corrupt ({msg})") from e
    except (ValueError, SyntaxError, MemoryError) as e:
        raise BadImage(p, f"the image is corrupt ({e})") from e
    return im


def to_rgb(im: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB; alpha is composited on white."""
    if im.mode == "RGB":
        return im
    if im.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = np.zeros_like(a) if hi <= lo else (a - lo) / (hi - lo) * 255.0
        return Image.fromarray(a.round().astype(np.uint8), "L").convert("RGB")
    if im.mode == "P":
        im = im.convert("RGBA")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(bg, im).convert("RGB")
    return im.convert("RGB")


def load_rgb(
    path: str | os.PathLike, draft: int | None = None, data: bytes | None = None
) -> Image.Image:
    """Open an image file as upright 8-bit RGB, or raise BadImage naming the file and problem.

    With `draft`, a JPEG may be decoded at a reduced scale that still covers draft x draft
    pixels (for thumbnails); the result is then smaller than the file's real size. With
    `data`, the file's bytes already read are decoded (and `path` only names it in errors).
    """
    im = _open(path, draft, data)
    try:
        im = ImageOps.exif_transpose(im)
    except Exception:  # a broken EXIF block must not lose the image
        pass
    try:
        return to_rgb(im)
    except (OSError, ValueError) as e:
        raise BadImage(path, f"cannot convert colour mode {im.mode} ({e})") from e


def image_size(path: str | os.PathLike) -> tuple[int, int]:
    """(width, height) as displayed (after EXIF rotation), validating the whole file."""
    return load_rgb(path).size


def load_mask(path: str | os.PathLike) -> np.ndarray:
    """A mask PNG as an HxW uint8 array of class indices (palette indices kept as-is)."""
    im = _open(path)
    if im.mode in ("P", "L"):
        return np.array(im, dtype=np.uint8)
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        a = np.array(im)
        if a.max() > 255:
            raise BadImage(path, f"mask value {int(a.max())} is out of range (0-255)")
        return a.astype(np.uint8)
    if im.mode in ("RGB", "RGBA"):
        a = np.array(im.convert("RGB"))
        if (a[..., 0] == a[..., 1]).all() and (a[..., 1] == a[..., 2]).all():
            return a[..., 0].copy()
        raise BadImage(path, "colour mask: save masks as class-index (grayscale or palette) PNGs")
    return np.array(im.convert("L"), dtype=np.uint8)


def mask_size_problem(
    mask_path: str | os.PathLike, shape: tuple[int, ...], image: str, size: tuple[int, int]
) -> str:
    """The sentence for a mask whose (height, width) `shape` is not its image's (width, height)
    `size`: a mask must cover its image pixel for pixel (never resized silently)."""
    return (
        f"Mask {shown(mask_path)} is {shape[1]} × {shape[0]} px but its image {shown(image)} is "
        f"{size[0]} × {size[1]} px: a mask must match its image pixel for pixel."
    )


def mask_values(mask: np.ndarray, ignore: int = 255) -> list[int]:
    """The distinct values in a class-index mask, ascending, without the ignore value."""
    counts = np.bincount(np.asarray(mask, dtype=np.uint8).ravel(), minlength=256)
    return [int(v) for v in np.flatnonzero(counts) if v != ignore]


def resample_filter(interpolation: str | None) -> int:
    """Pillow's filter for a model's interpolation ("bilinear", the default, or "bicubic")."""
    if interpolation in (None, "", "bilinear"):
        return Image.BILINEAR
    if interpolation == "bicubic":
        return Image.BICUBIC
    raise ValueError(f"Unknown interpolation {interpolation!r}; use bilinear or bicubic.")

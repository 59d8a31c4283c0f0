"""Test helper: writes small generated images, good ones in every odd colour mode and every
kind of bad file a user's folder may hold. Other test modules import it."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

COLORS = {
    "red": (220, 30, 30),
    "green": (30, 200, 40),
    "blue": (30, 60, 220),
    "yellow": (230, 220, 30),
}


def rgb_array(w: int = 32, h: int = 24, color=(200, 40, 40), seed: int = 0) -> np.ndarray:
    """A solid colour with a little seeded noise (so every seed gives a distinct file)."""
    rng = np.random.default_rng(seed)
    a = np.empty((h, w, 3), np.int16)
    a[:] = color
    a += rng.integers(-12, 13, size=a.shape, dtype=np.int16)
    return a.clip(0, 255).astype(np.uint8)


def write_image(path, w: int = 32, h: int = 24, color=(200, 40, 40), seed: int = 0) -> Path:
    """Write an RGB image; the format comes from the extension."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rgb_array(w, h, color, seed)).save(path)
    return path


def write_class_folders(
    root,
    classes=("red", "green"),
    per_class: int = 3,
    ext: str = ".png",
    size: int = 16,
    seed: int = 0,
) -> list[Path]:
    """ImageNet-style folders root/<class>/<class>_<i><ext>, distinct content everywhere."""
    out = []
    for ci, c in enumerate(classes):
        for i in range(per_class):
            color = COLORS.get(c, (40 * ci % 256, 90, 160))
            out.append(
                write_image(
                    Path(root) / c / f"{c}_{i}{ext}", size, size, color, seed * 1000 + ci * 100 + i
                )
            )
    return out


# ------------------------------------------------------------------ odd but good images
def write_odd_good(folder) -> dict[str, tuple[int, int]]:
    """Images in unusual modes that must import correctly. Returns name -> displayed (w, h)."""
    f = Path(folder)
    f.mkdir(parents=True, exist_ok=True)
    base = rgb_array(40, 20, (30, 140, 200), seed=7)
    out: dict[str, tuple[int, int]] = {}

    Image.fromarray(base).convert("P", palette=Image.Palette.ADAPTIVE).save(f / "palette.png")
    out["palette.png"] = (40, 20)
    Image.fromarray(base).convert("CMYK").save(f / "cmyk.jpg", quality=90)
    out["cmyk.jpg"] = (40, 20)
    a16 = (np.arange(40 * 20, dtype=np.uint16).reshape(20, 40) * 60).astype(np.uint16)
    Image.fromarray(a16).save(f / "sixteen_bit.png")  # uint16 -> mode I;16
    out["sixteen_bit.png"] = (40, 20)
    Image.fromarray(base).convert("L").save(f / "gray.png")
    out["gray.png"] = (40, 20)
    la = Image.fromarray(base).convert("LA")
    la.save(f / "gray_alpha.png")
    out["gray_alpha.png"] = (40, 20)
    rgba = Image.fromarray(base).convert("RGBA")
    rgba.putalpha(Image.new("L", (40, 20), 128))
    rgba.save(f / "alpha.png")
    out["alpha.png"] = (40, 20)
    write_exif_rotated(f / "rotated.jpg", 40, 20)
    out["rotated.jpg"] = (20, 40)  # orientation 6: displayed rotated 90 degrees
    return out


def write_exif_rotated(path, w: int = 40, h: int = 20, orientation: int = 6) -> Path:
    """A JPEG stored w x h with an EXIF orientation tag (6 = rotate 90 CW when displayed)."""
    im = Image.fromarray(rgb_array(w, h, (200, 200, 30), seed=11))
    exif = Image.Exif()
    exif[0x0112] = orientation
    im.save(path, "JPEG", exif=exif.tobytes())
    return Path(path)


# ------------------------------------------------------------------ bad files
def _png_bytes(w=32, h=32, seed=3) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb_array(w, h, seed=seed)).save(buf, "PNG")
    return buf.getvalue()


def _jpeg_bytes(w=64, h=64, seed=4) -> bytes:
    buf = io.BytesIO()
    # noisy content so the entropy-coded data is long enough to cut and corrupt
    a = np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)
    Image.fromarray(a).save(buf, "JPEG", quality=95)
    return buf.getvalue()


def write_bad(folder) -> dict[str, str]:
    """Every kind of unusable file. Returns name -> a word the skip reason must contain."""
    f = Path(folder)
    f.mkdir(parents=True, exist_ok=True)
    out: dict[str, str] = {}
    (f / "empty.jpg").write_bytes(b"")
    out["empty.jpg"] = "empty"
    (f / "not_an_image.png").write_bytes(b"this is plain text, not a PNG\n" * 5)
    out["not_an_image.png"] = "not an image"
    (f / "notes.txt").write_text("some notes", encoding="utf-8")
    out["notes.txt"] = "not an image"
    jpg = _jpeg_bytes()
    (f / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    out["truncated.jpg"] = "truncated"
    png = _png_bytes()
    (f / "truncated.png").write_bytes(png[: len(png) * 2 // 3])
    out["truncated.png"] = "trunc"
    bad = bytearray(png)
    bad[60:100] = b"\x00" * 40  # inside the IDAT data: zlib / checksum error
    (f / "corrupt.png").write_bytes(bytes(bad))
    out["corrupt.png"] = "corrupt"
    badj = bytearray(jpg)
    badj[2:40] = b"\xff" * 38  # clobber the headers
    (f / "corrupt.jpg").write_bytes(bytes(badj))
    out["corrupt.jpg"] = ""  # Pillow says "not an image" or "corrupt"; any clear reason
    return out


def write_big(path, w: int = 300, h: int = 300) -> Path:
    """An image that is large only relative to a monkeypatched imaging.MAX_PIXELS."""
    return write_image(path, w, h, seed=5)


# ------------------------------------------------------------------ segmentation sets
def write_seg_folder(
    images,
    masks,
    n: int = 3,
    *,
    values=(0, 1, 2),
    extra: int | None = None,
    mask_suffix: str = "",
    w: int = 16,
    h: int = 12,
    seed: int = 0,
) -> list[tuple[Path, Path]]:
    """n images with class-index mask PNGs of the same size, (image, mask) pairs. Mask k is
    `values[0]` with a block of a further value (cycling through values[1:]); `extra`, when
    given, fills row 0 (a void class, an out-of-range value)."""
    out = []
    for i in range(n):
        img = write_image(Path(images) / f"im{seed}_{i}.png", w, h, seed=seed * 100 + i)
        m = np.full((h, w), values[0], np.uint8)
        m[3:9, 4:12] = values[1 + i % (len(values) - 1)]
        if extra is not None:
            m[0, :] = extra
        mp = Path(masks) / f"im{seed}_{i}{mask_suffix}.png"
        mp.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(m, "L").save(mp)
        out.append((img, mp))
    return out

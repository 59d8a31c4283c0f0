"""Perceptual hashes (dHash) of a project's images and near-duplicate groups, numpy only.

dHash: the image, grey and shrunk to 9x8, gives 64 bits "is this pixel brighter than its right
neighbour"; re-encoded, resized or slightly recoloured copies keep (nearly) the same bits. The
decode is small: the cached thumbnail when there is one, else the file with JPEG draft mode.
Hashes are cached per content (sha1) in PROJECT/thumbs/dhash.npz (disposable, like thumbnails),
so a second check decodes nothing. Near pairs are found without comparing all n^2 pairs: with a
threshold of t differing bits, two close hashes agree exactly on at least one of t+1 bands
(pigeonhole), so only hashes sharing a band value are compared.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from engine.atomic import write_file
from engine.errors import StorageError
from engine.project.paths import inside

CACHE_FILE = "thumbs/dhash.npz"
NEAR_BITS = 4  # at most this many of 64 bits differ: a near duplicate
WINDOW = 48  # neighbours compared inside one band bucket (bounds the work on huge buckets)
GRAY_SPREAD = 6  # max channel difference (0-255) for an RGB image to count as grey


def dhash_image(im: Image.Image) -> tuple[int, bool]:
    """(64-bit dHash, is grey) of a PIL image: one BOX resize to 9x8 RGB, the rest in numpy
    (few PIL calls per image: at 100k images the per-call overhead is what costs)."""
    if im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    small = im.resize((9, 8), Image.Resampling.BOX, reducing_gap=None)
    a = np.frombuffer(small.tobytes(), np.uint8)
    if im.mode == "L":
        g, gray = a.reshape(8, 9).astype(np.int32) * 1000, True
    else:
        rgb = a.reshape(8, 9, 3).astype(np.int32)
        gray = int(np.ptp(rgb, axis=2).max()) <= GRAY_SPREAD
        g = rgb[..., 0] * 299 + rgb[..., 1] * 587 + rgb[..., 2] * 114
    bits = (g[:, 1:] > g[:, :-1]).ravel()
    return int(np.packbits(bits).view(">u8")[0]), gray


def dhash_file(path: str | os.PathLike) -> tuple[int, bool]:
    """dHash of a file, decoded small (JPEG draft); raises OSError / PIL errors if unreadable."""
    with Image.open(path) as im:
        if im.format == "JPEG":
            im.draft("L" if im.mode == "L" else "RGB", (64, 64))
        return dhash_image(im)


def load_cache(folder: Path) -> dict[str, tuple[int, bool]]:
    p = Path(folder) / CACHE_FILE
    if not p.is_file():
        return {}
    try:
        with np.load(p, allow_pickle=False) as z:
            return {
                str(s): (int(h), bool(g))
                for s, h, g in zip(z["sha1"], z["hash"], z["gray"], strict=True)
            }
    except (OSError, ValueError, KeyError):
        return {}  # a broken cache is remade


def save_cache(folder: Path, cache: dict[str, tuple[int, bool]]) -> None:
    """Write the cache (atomically); a disk that refuses (a read-only project, a full disk) only
    costs the time to hash again next check."""
    p = Path(folder) / CACHE_FILE
    keys = sorted(cache)
    arrays = {
        "sha1": np.array(keys, dtype="U40"),
        "hash": np.array([cache[k][0] for k in keys], dtype=np.uint64),
        "gray": np.array([cache[k][1] for k in keys], dtype=bool),
    }
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        write_file(p, lambda f: np.savez(f, **arrays), durable=False)
    except (OSError, StorageError):
        pass


def hash_images(
    folder: Path,
    items: Sequence[tuple[str, str]],
    *,
    check: Callable[[], None] = lambda: None,
    progress: Callable[[int, int], None] = lambda _d, _t: None,
) -> tuple[dict[str, tuple[int, bool]], list[tuple[str, str]]]:
    """Hashes of (sha1, relative file) items, from the cache or decoded; also the unreadable
    (file, reason) ones. `check()` runs every 256 decodes (cancel), `progress(done, total)`."""
    folder = Path(folder)
    cache = load_cache(folder)
    todo = [(s, f) for s, f in dict(items).items() if s not in cache]
    bad: list[tuple[str, str]] = []
    for k, (sha1, rel) in enumerate(todo):
        if k % 256 == 0:
            check()
            progress(k, len(todo))
        try:
            thumb = inside(folder, f"thumbs/{sha1}_128.jpg", f"the content hash of {rel}")
            src = thumb if os.path.isfile(thumb) else inside(folder, rel, f"image {rel}")
            cache[sha1] = dhash_file(src)
        except Exception as e:  # noqa: BLE001 - any decoder error: report the file, go on
            bad.append((rel, f"cannot be read ({e})"))
        if k and k % 20000 == 0:
            save_cache(folder, cache)  # a cancelled check keeps what it did
    progress(len(todo), len(todo))
    if todo:
        save_cache(folder, cache)
    return cache, bad


def near_groups(hashes: np.ndarray, bits: int = NEAR_BITS) -> np.ndarray:
    """Group label per hash: hashes within `bits` differing bits (transitively) share a label.

    Returns int64 labels (the smallest member index of each group)."""
    h = np.asarray(hashes, dtype=np.uint64)
    n = len(h)
    uniq, inv = np.unique(h, return_inverse=True)
    parent = np.arange(len(uniq))
    pairs = _near_pairs(uniq, bits)
    for a, b in pairs:  # union-find over distinct hashes; pairs are few
        ra, rb = _root(parent, a), _root(parent, b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([_root(parent, i) for i in range(len(uniq))], dtype=np.int64)
    group_of_uniq = roots[inv.ravel()]
    first = np.full(len(uniq), n, dtype=np.int64)
    np.minimum.at(first, group_of_uniq, np.arange(n))
    return first[group_of_uniq]


def _root(parent: np.ndarray, i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return int(i)


def _near_pairs(uniq: np.ndarray, bits: int) -> list[tuple[int, int]]:
    """Index pairs of distinct hashes within `bits` bits, via bands of 64 // (bits + 1) bits."""
    if bits <= 0 or len(uniq) < 2:
        return []
    nb = bits + 1
    width = 64 // nb
    found: set[tuple[int, int]] = set()
    idx = np.arange(len(uniq))
    for b in range(nb):
        key = (uniq >> np.uint64(b * width)) & np.uint64((1 << width) - 1)
        order = np.lexsort((uniq, key))
        ks, hs, ids = key[order], uniq[order], idx[order]
        for d in range(1, min(WINDOW, len(uniq) - 1) + 1):
            same = ks[d:] == ks[:-d]
            if not same.any():
                break
            close = np.bitwise_count(hs[d:][same] ^ hs[:-d][same]) <= bits
            a, c = ids[:-d][same][close], ids[d:][same][close]
            found.update(zip(np.minimum(a, c).tolist(), np.maximum(a, c).tolist(), strict=True))
    return sorted(found)

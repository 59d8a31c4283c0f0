"""Data sets for the quality benchmarks, made on this machine without any download.

- `lfw_faces`: the 200 real photos (25x25 grey) of scikit-image's `lfw_subset` (100 faces from
  Labeled Faces in the Wild, 100 non-face patches): face / not a face. Needs scikit-image.
- `colour_shapes`: generated; 3 classes that differ by the colour of the shapes drawn on a noisy
  background (the "three easy synthetic classes" of issue 8).
- `photo_shapes`: segmentation of discs and boxes painted in random saturated colours on crops of
  scikit-image's colour photos (astronaut, cat, coffee, rocket, Hubble deep field, retina);
  train crops from the top 60 % of each photo, valid/test crops from the bottom 40 %. Needs
  scikit-image. (Photographed textures - brick / grass / gravel mosaics - were tried first:
  nothing, engine or reference, learns them from scratch in a CPU-sized run.)
- `street_scenes`: real-photo segmentation in the CamVid layout (`train/ trainannot/ val/
  valannot/ test/ testannot/ codes.txt`): non-square JPEG scenes of wavy bands and blobs, each
  region textured with one of eight scikit-image colour photos (the class), void borders,
  'L' and palette masks. Needs scikit-image.
- `squares`: generated, tiny segmentation of bright squares on a dark background.
- `glyphs`: generated: 6 shape classes (circle, square, triangle, cross, ring, bar) drawn in
  random colours on a noisy background; `--transfer` tasks use its classes.

Each builder writes files under `root` and returns a `DataSet` with fixed train / valid / test
splits; `make_project` imports it into a new Project through the engine's import API, so the
engine and a reference loop see exactly the same images and splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

SPLITS = ("train", "valid", "test")


@dataclass
class DataSet:
    name: str
    task: str  # "classification" | "segmentation"
    root: Path
    classes: list[str]
    source: str  # one line: where the images come from
    files: dict[str, list[tuple[Path, object]]] = field(default_factory=dict)  # split -> items


def _split_of(i: int, n: int, fractions=(0.6, 0.2, 0.2)) -> str:
    a, b = int(n * fractions[0]), int(n * (fractions[0] + fractions[1]))
    return "train" if i < a else "valid" if i < b else "test"


def _class_folders(ds: DataSet, images: list[tuple[np.ndarray, int]], seed: int) -> DataSet:
    """Write root/<split>/<class>/<i>.png, stratified: every class in every split."""
    rng = np.random.default_rng(seed)
    ds.files = {s: [] for s in SPLITS}
    for c, _name in enumerate(ds.classes):
        idx = [i for i, (_, y) in enumerate(images) if y == c]
        rng.shuffle(idx)
        for k, i in enumerate(idx):
            split = _split_of(k, len(idx))
            path = ds.root / split / ds.classes[c] / f"{ds.classes[c]}_{i:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i][0]).save(path)
            ds.files[split].append((path, c))
    return ds


def _skimage_data():
    try:
        import skimage.data as data
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise SystemExit(
            "This data set uses photos shipped with scikit-image: pip install scikit-image"
        ) from e
    return data


def lfw_faces(root: Path, seed: int = 0) -> DataSet:
    """200 real 25x25 photos: 100 faces (LFW) and 100 non-faces, saved as grey PNGs."""
    arr = _skimage_data().lfw_subset()  # (200, 25, 25) floats in 0..1; faces first
    imgs = [((a * 255).round().astype(np.uint8), 0 if i < 100 else 1) for i, a in enumerate(arr)]
    ds = DataSet(
        "lfw_faces",
        "classification",
        Path(root),
        ["face", "not_face"],
        "scikit-image lfw_subset: 200 real 25x25 photos (100 LFW faces, 100 non-faces)",
    )
    return _class_folders(ds, imgs, seed)


def _background(rng, size: int) -> np.ndarray:
    g = np.linspace(0, 1, size)
    base = g[None, :, None] * rng.integers(60, 200, 3) + g[:, None, None] * rng.integers(0, 80, 3)
    return base / 1.5 + rng.normal(0, 14, (size, size, 3))


COLOURS = {"red": (210, 40, 40), "green": (40, 180, 60), "blue": (40, 70, 210)}


def colour_shapes(root: Path, n: int = 180, size: int = 64, seed: int = 0) -> DataSet:
    """n images; the class is the colour (red / green / blue) of 1-3 random shapes."""
    rng = np.random.default_rng(seed)
    names = list(COLOURS)
    imgs = []
    for i in range(n):
        c = i % len(names)
        im = Image.fromarray(np.clip(_background(rng, size), 0, 255).astype(np.uint8))
        d = ImageDraw.Draw(im)
        for _ in range(int(rng.integers(1, 4))):
            x0, y0 = (int(v) for v in rng.integers(0, size * 2 // 3, 2))
            s = int(rng.integers(size // 6, size // 3))
            col = tuple(int(np.clip(v + rng.integers(-30, 31), 0, 255)) for v in COLOURS[names[c]])
            (d.ellipse if rng.random() < 0.5 else d.rectangle)([x0, y0, x0 + s, y0 + s], fill=col)
        imgs.append((np.asarray(im), c))
    ds = DataSet(
        "colour_shapes",
        "classification",
        Path(root),
        names,
        f"generated: {n} {size}px images, class = colour of the shapes",
    )
    return _class_folders(ds, imgs, seed)


GLYPHS = ("circle", "square", "triangle", "cross", "ring", "bar")


def _glyph(d: ImageDraw.ImageDraw, kind: str, box, col, width: int) -> None:
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if kind == "circle":
        d.ellipse(box, fill=col)
    elif kind == "square":
        d.rectangle(box, fill=col)
    elif kind == "triangle":
        d.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=col)
    elif kind == "cross":
        d.rectangle([cx - width, y0, cx + width, y1], fill=col)
        d.rectangle([x0, cy - width, x1, cy + width], fill=col)
    elif kind == "ring":
        d.ellipse(box, outline=col, width=width)
    else:  # bar
        d.rectangle([x0, cy - width, x1, cy + width], fill=col)


def glyphs(
    root: Path,
    classes=GLYPHS,
    per_class: int = 40,
    size: int = 64,
    seed: int = 0,
    name: str = "glyphs",
    fractions=(0.6, 0.2, 0.2),
) -> DataSet:
    """per_class images of each shape class, one shape of random colour, size and place."""
    rng = np.random.default_rng(seed)
    classes = list(classes)
    imgs = []
    for c, kind in enumerate(classes):
        for _ in range(per_class):
            im = Image.fromarray(np.clip(_background(rng, size), 0, 255).astype(np.uint8))
            s = int(rng.integers(size * 2 // 5, size * 3 // 4))
            x0, y0 = (int(v) for v in rng.integers(0, size - s, 2))
            col = tuple(int(v) for v in rng.integers(0, 256, 3))
            _glyph(ImageDraw.Draw(im), kind, [x0, y0, x0 + s, y0 + s], col, max(2, s // 8))
            imgs.append((np.asarray(im), c))
    ds = DataSet(name, "classification", Path(root), classes, f"generated shapes: {classes}")
    rng2 = np.random.default_rng(seed + 1)
    ds.files = {s: [] for s in SPLITS}
    for c in range(len(classes)):
        idx = [i for i, (_, y) in enumerate(imgs) if y == c]
        rng2.shuffle(idx)
        for k, i in enumerate(idx):
            split = _split_of(k, len(idx), fractions)
            path = ds.root / split / classes[c] / f"{classes[c]}_{i:04d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(imgs[i][0]).save(path)
            ds.files[split].append((path, c))
    return ds


PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina")


def photo_shapes(root: Path, n: int = 150, size: int = 48, seed: int = 0) -> DataSet:
    """n crops of scikit-image's colour photos with 1-3 discs (class 1) or boxes (class 2) of
    random saturated colours painted on them; masks give background 0. Train crops come from
    the top 60 % of each photo, valid/test crops from the bottom 40 %."""
    data = _skimage_data()
    photos = [getattr(data, p)() for p in PHOTOS]
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    names = ["background", "disc", "box"]
    (root / "codes.txt").write_text("\n".join(names) + "\n", encoding="utf-8")
    ds = DataSet("photo_shapes", "segmentation", root, names,
                 f"scikit-image colour photos ({', '.join(PHOTOS)}) as backgrounds of painted "
                 f"discs and boxes ({n} {size}px images)")  # fmt: skip
    ds.files = {s: [] for s in SPLITS}
    for i in range(n):
        split = _split_of(i, n)
        photo = photos[int(rng.integers(len(photos)))]
        h = photo.shape[0]
        lo, hi = (0, int(h * 0.6)) if split == "train" else (int(h * 0.6), h)
        crop = int(rng.integers(size, min(hi - lo, photo.shape[1]) // 2 + size + 1))
        crop = min(crop, hi - lo, photo.shape[1])
        y, x = int(rng.integers(lo, hi - crop + 1)), int(rng.integers(0, photo.shape[1] - crop + 1))
        im = Image.fromarray(photo[y : y + crop, x : x + crop]).resize((size, size))
        mask = Image.new("L", (size, size), 0)
        d, dm = ImageDraw.Draw(im), ImageDraw.Draw(mask)
        for _ in range(int(rng.integers(1, 4))):
            c = int(rng.integers(1, 3))
            s = int(rng.integers(size // 5, size // 2))
            x0, y0 = (int(v) for v in rng.integers(0, size - s, 2))
            hue = rng.permutation([int(rng.integers(200, 256)), int(rng.integers(0, 60)),
                                   int(rng.integers(0, 256))])  # fmt: skip
            col = tuple(int(v) for v in hue)
            (d.ellipse if c == 1 else d.rectangle)([x0, y0, x0 + s, y0 + s], fill=col)
            (dm.ellipse if c == 1 else dm.rectangle)([x0, y0, x0 + s, y0 + s], fill=c)
        name = f"{split}_{i:04d}"
        ip, mp = root / "images" / f"{name}.png", root / "masks" / f"{name}.png"
        im.save(ip)
        mask.save(mp)
        ds.files[split].append((ip, mp))
    return ds


SCENE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina",
                "immunohistochemistry", "stereo_motorcycle")  # fmt: skip
SCENE_CLASSES = ("suit", "fur", "cup", "launch", "stars", "fundus", "tissue", "motorbike")


def _photo(data, name: str) -> np.ndarray:
    a = getattr(data, name)()
    return a[0] if isinstance(a, tuple) else a


def street_scenes(
    root: Path,
    n: int = 120,
    width: int = 96,
    height: int = 72,
    n_classes: int = 8,
    seed: int = 0,
) -> DataSet:
    """A real-photo segmentation set in the CamVid layout (train/ trainannot/ val/ valannot/
    test/ testannot/ codes.txt): non-square JPEG scenes (width x height) made of three wavy
    horizontal bands and 1-3 blobs, each region textured with a crop of one of scikit-image's
    colour photos; the class is the photo the texture comes from. Region borders (2 px) carry
    the void value (the last name in codes.txt, "Unlabelled"), as CamVid's do. Masks are 8-bit
    'L' PNGs, every third one a palette PNG. Train textures come from the top 60 % of each
    photo, valid/test textures from the bottom 40 %."""
    data = _skimage_data()
    names = list(SCENE_CLASSES[:n_classes])
    photos = [_photo(data, p) for p in SCENE_PHOTOS[:n_classes]]
    void = len(names)
    rng = np.random.default_rng(seed)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    (root / "codes.txt").write_text("\n".join([*names, "Unlabelled"]) + "\n", encoding="utf-8")
    ds = DataSet("street_scenes", "segmentation", root, names,
                 f"CamVid-layout scenes textured with scikit-image photos "
                 f"({', '.join(SCENE_PHOTOS[:n_classes])}): {n} {width}x{height} JPEGs, "
                 f"{n_classes} classes + void borders")  # fmt: skip
    ds.files = {s: [] for s in SPLITS}
    folder = {"train": "train", "valid": "val", "test": "test"}
    yy, xx = np.mgrid[0:height, 0:width]
    for i in range(n):
        split = _split_of(i, n)

        def texture(c: int, split: str = split) -> np.ndarray:
            ph = photos[c]
            h, w = ph.shape[:2]
            lo, hi = (0, int(h * 0.6)) if split == "train" else (int(h * 0.6), h)
            scale = rng.uniform(0.5, 1.5)
            ch, cw = min(hi - lo, int(height * scale) + 1), min(w, int(width * scale) + 1)
            y, x = int(rng.integers(lo, hi - ch + 1)), int(rng.integers(0, w - cw + 1))
            crop = Image.fromarray(ph[y : y + ch, x : x + cw, :3])
            return np.asarray(crop.resize((width, height), Image.BILINEAR))

        label = np.zeros((height, width), np.int32)
        cuts = sorted(rng.uniform(0.2, 0.8, 2) * height)
        phase, amp = rng.uniform(0, 6.3, 2), rng.uniform(1, height / 10, 2)
        band = np.zeros_like(label)
        for k in range(2):
            edge = cuts[k] + amp[k] * np.sin(xx / width * 6.3 * rng.uniform(0.5, 2) + phase[k])
            band += (yy > edge).astype(np.int32)
        classes = rng.choice(n_classes, 3, replace=False)
        label = classes[band]
        for _ in range(int(rng.integers(1, 4))):
            c = int(rng.integers(n_classes))
            cx, cy = rng.uniform(0, width), rng.uniform(height * 0.3, height)
            rx, ry = rng.uniform(width / 12, width / 5), rng.uniform(height / 12, height / 5)
            if rng.random() < 0.5:
                inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1
            else:
                inside = (np.abs(xx - cx) <= rx) & (np.abs(yy - cy) <= ry)
            label = np.where(inside, c, label)
        img = np.zeros((height, width, 3), np.uint8)
        for c in np.unique(label):
            img[label == c] = texture(int(c))[label == c]
        border = np.zeros_like(label, bool)
        for axis in (0, 1):
            d = np.diff(label, axis=axis) != 0
            pad = [(0, 0), (0, 0)]
            pad[axis] = (1, 0)
            border |= np.pad(d, pad)
            pad[axis] = (0, 1)
            border |= np.pad(d, pad)
        mask = np.where(border, void, label).astype(np.uint8)
        stem = f"scene_{i:04d}"
        ip = root / folder[split] / f"{stem}.jpg"
        mp = root / f"{folder[split]}annot" / f"{stem}.png"
        ip.parent.mkdir(parents=True, exist_ok=True)
        mp.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(ip, quality=90)
        m = Image.fromarray(mask, "L")
        if i % 3 == 0:
            m = m.convert("P")
            m.putpalette([v for c in range(256) for v in ((c * 37) % 256, (c * 91) % 256, c)])
        m.save(mp)
        ds.files[split].append((ip, mp))
    return ds


def squares(root: Path, n: int = 24, size: int = 32, seed: int = 0) -> DataSet:
    """Tiny generated segmentation: a bright square (class 1) on a dark noisy background."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    (root / "images").mkdir(parents=True, exist_ok=True)
    (root / "masks").mkdir(parents=True, exist_ok=True)
    (root / "codes.txt").write_text("background\nsquare\n", encoding="utf-8")
    ds = DataSet("squares", "segmentation", root, ["background", "square"], "generated squares")
    ds.files = {s: [] for s in SPLITS}
    for i in range(n):
        split = _split_of(i, n)
        arr = np.full((size, size, 3), 30.0) + rng.normal(0, 10, (size, size, 3))
        mask = np.zeros((size, size), np.uint8)
        s = int(rng.integers(size // 4, size // 2))
        y0, x0 = (int(v) for v in rng.integers(0, size - s, 2))
        arr[y0 : y0 + s, x0 : x0 + s] = 220
        mask[y0 : y0 + s, x0 : x0 + s] = 1
        name = f"{split}_{i:04d}"
        ip, mp = root / "images" / f"{name}.png", root / "masks" / f"{name}.png"
        Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(ip)
        Image.fromarray(mask).save(mp)
        ds.files[split].append((ip, mp))
    return ds


def make_project(ds: DataSet, folder: Path):
    """A new Project holding `ds`, imported through the engine's import API, splits as in ds."""
    from engine.imports.api import import_folder, import_segmentation
    from engine.project.store import Project

    project = Project.create(Path(folder), ds.task)
    if (ds.root / "trainannot").is_dir():  # the CamVid layout brings its splits and void class
        import_folder(project, ds.root)
    elif ds.task == "segmentation":
        import_segmentation(project, ds.root / "images", ds.root / "masks", ds.root / "codes.txt")
        by_split: dict[str, list[int]] = {s: [] for s in SPLITS}
        for rec in project.images():
            by_split[rec.name.split("_", 1)[0]].append(rec.id)
        for split, ids in by_split.items():
            if ids:
                project.set_split(ids, split)
    else:
        import_folder(project, ds.root)  # train/ valid/ test/ folders fix the splits
    return project


def project_items(project, split: str) -> list[tuple[Path, object]]:
    """(absolute image path, class index or absolute mask path) of a project's split."""
    names = project.class_names()
    out = []
    for rec in project.images(project.query(split=split)):
        if project.task == "segmentation":
            if rec.mask:
                out.append((project.abspath(rec.file), project.abspath(rec.mask)))
        elif rec.labels:
            out.append((project.abspath(rec.file), names.index(rec.labels[0])))
    return out

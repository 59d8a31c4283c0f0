"""Training data: which images train and validate, checks made before a run, and the datasets.

`prepare_data(project, config)` turns a project into a `DataSpec` (items of the train and valid
splits, class names, regression target statistics) or raises `TrainingError` naming the problem.
`ImageDataset` yields uint8 CHW tensors of a fixed size; decoded, resized images are kept in RAM
(`RamCache`) so epochs after the first skip JPEG decoding. Augmentation (random resized crop,
flip, rotation, colour jitter) runs on whole batches on the device
(engine.training.augment), where it
costs a fraction of per-image transforms; images and masks go through the same warp.

Images are squished to a square (no cropping), at training and at prediction time alike, so
segmentation masks keep every pixel. Classes and collate are module-level (spawn-safe).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset

from engine.errors import TrainingError
from engine.imaging import BadImage, load_mask, load_rgb, mask_size_problem, resample_filter
from engine.project.store import IGNORE_INDEX

CACHE_OVERSIZE = 1.25  # train images are cached this much larger than the crop size


@dataclass
class Item:
    image_id: int
    path: str  # absolute image path
    target: object  # int | np.ndarray (float32) | str (absolute mask path)


@dataclass
class DataSpec:
    task: str
    class_names: list[str]
    targets: list[str]  # regression target names
    train: list[Item]
    valid: list[Item]
    n_outputs: int
    target_mean: list[float] = field(default_factory=list)
    target_std: list[float] = field(default_factory=list)


def _labeled(project, split: str) -> list:
    return [r for r in project.images(project.query(split=split)) if _has_label(project.task, r)]


def _has_label(task: str, rec) -> bool:
    if task in ("classification", "multilabel"):
        return bool(rec.labels)
    if task == "regression":
        return rec.values is not None
    return rec.mask is not None


def prepare_data(project, config) -> DataSpec:
    """Collect the labeled train/valid images and check them; TrainingError on any problem."""
    task = project.task
    if not _labeled(project, "valid") and project.count():
        # images never given a split: assign them (stratified, seeded) as the config asks
        project.assign_splits(config.valid_pct, config.test_pct, config.seed)
    train_recs, valid_recs = _labeled(project, "train"), _labeled(project, "valid")
    if not train_recs and not valid_recs:
        raise TrainingError("There are no labeled images yet. Label some images, then train.")
    if not valid_recs:
        raise TrainingError(
            "The validation set has no labeled images. Move some labeled images to the 'valid' "
            "split (or assign splits with a validation percentage above 0)."
        )
    if len(train_recs) < 2:
        raise TrainingError("The training set needs at least 2 labeled images.")
    names = project.class_names()
    targets = project.targets
    spec = DataSpec(task, names if task != "regression" else [], targets, [], [], 0)
    if task in ("classification", "multilabel"):
        _check_classes(project, names, train_recs + valid_recs)
        spec.n_outputs = len(names)
    elif task == "segmentation":
        if len(names) < 2:
            raise TrainingError(
                "Segmentation needs at least 2 classes (for example 'background' and one object)."
            )
        spec.n_outputs = len(names)
    else:
        spec.n_outputs = len(targets)
    index = {n: i for i, n in enumerate(names)}
    for split, recs in (("train", train_recs), ("valid", valid_recs)):
        out = spec.train if split == "train" else spec.valid
        for r in recs:
            out.append(Item(r.id, str(project.image_path(r)), _target(project, r, index, spec)))
    if task == "regression":
        arr = np.stack([it.target for it in spec.train])
        spec.target_mean = arr.mean(0).astype(float).tolist()
        std = arr.std(0)
        spec.target_std = np.where(std > 1e-8, std, 1.0).astype(float).tolist()
    return spec


def _check_classes(project, names: list[str], recs: list) -> None:
    if len(names) < 2:
        raise TrainingError(
            f"The project has {'only one class' if names else 'no classes'}; a model needs at "
            "least 2 classes to tell apart. Add another class and label some images with it."
        )
    counts = dict.fromkeys(names, 0)
    for r in recs:
        for lab in r.labels:
            counts[lab] = counts.get(lab, 0) + 1
    empty = [n for n, c in counts.items() if c == 0]
    if empty:
        raise TrainingError(
            f"Class {', '.join(repr(n) for n in empty)} has no labeled images in the train or "
            "valid split. Label some images with it, or delete the class."
        )
    used = [n for n, c in counts.items() if c > 0]
    if len(used) < 2:
        raise TrainingError("All labeled images belong to a single class; label a second class.")


def _target(project, rec, index: dict[str, int], spec: DataSpec):
    task = spec.task
    if task == "classification":
        return index[rec.labels[0]]
    if task == "multilabel":
        t = np.zeros(len(index), np.float32)
        t[[index[n] for n in rec.labels]] = 1.0
        return t
    if task == "regression":
        vals = rec.values
        ok = isinstance(vals, (list, tuple)) and len(vals) == spec.n_outputs
        ok = ok and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in vals
        )
        if not ok:
            raise TrainingError(
                f"Image {rec.name}: regression label {vals!r} is not {spec.n_outputs} finite "
                f"number(s) ({', '.join(spec.targets)}). Fix or clear its value."
            )
        return np.asarray(vals, np.float32)
    mask_path = str(project.mask_path(rec))  # OutsideProjectError names the row
    try:
        m = load_mask(mask_path)
    except BadImage as e:
        raise TrainingError(f"Mask {mask_path} cannot be read: {e.reason}.") from e
    if m.shape != (rec.height, rec.width):
        raise TrainingError(
            mask_size_problem(mask_path, m.shape, rec.name, (rec.width, rec.height))
            + " Nothing was trained."
        )
    bad = m[(m >= spec.n_outputs) & (m != IGNORE_INDEX)]
    if bad.size:
        raise TrainingError(
            f"Mask {mask_path} has value {int(bad.max())}, out of range: the project has "
            f"{spec.n_outputs} classes (values 0-{spec.n_outputs - 1}, 255 = unlabeled)."
        )
    return mask_path


class RamCache:
    """Decoded, resized uint8 images (and masks) kept in RAM up to a byte budget."""

    def __init__(self, max_mb: float):
        self.max_bytes = int(max_mb * 1024 * 1024)
        self.used = 0
        self.data: dict[int, tuple] = {}

    def get(self, key: int):
        return self.data.get(key)

    def put(self, key: int, value: tuple) -> None:
        n = sum(v.numel() * v.element_size() for v in value if v is not None)
        if key not in self.data and self.used + n <= self.max_bytes:
            self.data[key] = value
            self.used += n


def _pil_to_tensor(im: Image.Image) -> torch.Tensor:
    return torch.from_numpy(np.asarray(im, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


class ImageDataset(Dataset):
    """Items of one split as (uint8 image CHW, target, index); a bad file gives a skip marker.

    Train: squares of CACHE_OVERSIZE x size (crop on) for
    engine.training.augment's batch warp to crop,
    flip and rotate to size x size. Valid: squished to size x size. Regression targets come
    out normalised by (mean, std).
    """

    def __init__(
        self, spec: DataSpec, split: str, size: int, config, train: bool, interpolation="bilinear"
    ):
        self.resample = resample_filter(interpolation)
        self.items = spec.train if split == "train" else spec.valid
        self.task = spec.task
        self.size = int(size)
        self.train = train
        self.crop = bool(config.resized_crop) and train
        self.base = round(self.size * CACHE_OVERSIZE) if self.crop else self.size
        self.cache = RamCache(config.cache_mb / (2 if split == "train" else 4))
        self.mean = np.asarray(spec.target_mean or [0.0], np.float32)
        self.std = np.asarray(spec.target_std or [1.0], np.float32)

    def __len__(self) -> int:
        return len(self.items)

    def _load(self, idx: int) -> tuple:
        hit = self.cache.get(idx)
        if hit is not None:
            return hit
        item = self.items[idx]
        im = load_rgb(item.path).resize((self.base, self.base), self.resample, reducing_gap=2.0)
        mask = None
        if self.task == "segmentation":
            m = Image.fromarray(load_mask(item.target))
            m = m.resize((self.base, self.base), Image.NEAREST)
            mask = torch.from_numpy(np.array(m, dtype=np.uint8))
        value = (_pil_to_tensor(im), mask)
        self.cache.put(idx, value)
        return value

    def __getitem__(self, idx: int):
        item = self.items[idx]
        try:
            img, mask = self._load(idx)
        except BadImage as e:
            return ("skip", e.path, e.reason, idx)
        except OSError as e:
            return ("skip", item.path, f"cannot be read ({e.strerror or e})", idx)
        return img, self._target(item, mask), idx

    def _target(self, item: Item, mask):
        if self.task == "classification":
            return torch.tensor(item.target, dtype=torch.long)
        if self.task == "multilabel":
            return torch.from_numpy(item.target)
        if self.task == "regression":
            return torch.from_numpy((item.target - self.mean) / self.std)
        return mask.long()


def collate(samples: list) -> tuple:
    """Stack good samples; bad ones become (path, reason) entries in the 4th element."""
    good = [s for s in samples if s[0] != "skip"]
    skipped = [(s[1], s[2]) for s in samples if s[0] == "skip"]
    if not good:
        return None, None, None, skipped
    x = torch.stack([s[0] for s in good])
    y = torch.stack([s[1] for s in good])
    idx = torch.tensor([s[2] for s in good])
    return x, y, idx, skipped


def make_loader(
    dataset: ImageDataset, batch_size: int, shuffle: bool, config, pin: bool, sampler=None
):
    """A DataLoader with the engine's collate; spawn workers when num_workers > 0. A `sampler`
    (training's class-balanced one) replaces shuffling."""
    from torch.utils.data import DataLoader

    n = len(dataset)
    # drop a ragged last batch in training (a batch of 1 breaks BatchNorm), keep all in valid
    drop_last = shuffle and n > batch_size
    kw = {}
    if config.num_workers > 0:
        kw = {
            "num_workers": int(config.num_workers),
            "multiprocessing_context": "spawn",
            "persistent_workers": True,
        }
    return DataLoader(
        dataset,
        batch_size=min(batch_size, n),
        shuffle=shuffle and sampler is None,
        sampler=sampler,
        drop_last=drop_last,
        collate_fn=collate,
        pin_memory=pin,
        **kw,
    )

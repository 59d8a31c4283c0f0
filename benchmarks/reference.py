"""A plain PyTorch training loop in the manner of torchvision's reference scripts, for comparison
with the engine in the quality benchmarks, and the shared evaluation on a test split.

Recipe (torchvision references/classification and references/segmentation, with AdamW and a
one-cycle schedule as issue 8 asks): classification trains on RandomResizedCrop + horizontal
flip; segmentation on RandomResize(0.5-2x) + RandomCrop (masks padded with the ignore value) +
flip, cross-entropy ignoring 255. AdamW (weight decay 0.05) with OneCycleLR at `lr`; the network
is evaluated on the valid split after each epoch (as the references do) and the last one is
kept. Images are decoded with PIL on every use, as in the references.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F  # noqa: N812
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import tv_tensors
from torchvision.transforms import v2

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
REF_LR = 2e-3
REF_WD = 0.05
IGNORE = 255


class RefData(Dataset):
    """(image tensor, target) pairs from (path, class index | mask path) items."""

    def __init__(self, items, transform, seg: bool):
        self.items, self.transform, self.seg = list(items), transform, seg

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i):
        path, target = self.items[i]
        img = tv_tensors.Image(v2.functional.pil_to_tensor(Image.open(path).convert("RGB")))
        if self.seg:
            mask = tv_tensors.Mask(torch.from_numpy(np.array(Image.open(target), np.int64)))
            img, mask = self.transform(img, mask)
            return img, mask
        return self.transform(img), int(target)


def transforms(size: int, train: bool, seg: bool):
    tail = [v2.ToDtype(torch.float32, scale=True), v2.Normalize(MEAN, STD)]
    if not train:
        return v2.Compose([v2.Resize((size, size), antialias=True), *tail])
    if seg:
        base = int(size * 1.08)
        fill = {tv_tensors.Image: 0, tv_tensors.Mask: IGNORE}
        aug = [
            v2.RandomResize(int(0.5 * base), int(2.0 * base)),
            v2.RandomCrop(size, pad_if_needed=True, fill=fill),
            v2.RandomHorizontalFlip(),
        ]
        to_float = v2.ToDtype({tv_tensors.Image: torch.float32, "others": None}, scale=True)
        return v2.Compose([*aug, to_float, v2.Normalize(MEAN, STD)])
    aug = [v2.RandomResizedCrop(size, antialias=True), v2.RandomHorizontalFlip()]
    return v2.Compose([*aug, *tail])


def _collate_seg(batch):
    return torch.stack([b[0] for b in batch]), torch.stack([b[1] for b in batch]).long()


def train_reference(
    *,
    arch: str,
    task: str,
    n_classes: int,
    train_items,
    valid_items,
    size: int,
    epochs: int,
    batch_size: int = 32,
    lr: float = REF_LR,
    seed: int = 0,
):
    """Train from scratch; returns (model in eval mode, seconds)."""
    from engine.models.registry import build_model

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    np.random.seed(seed)
    seg = task == "segmentation"
    model = build_model(arch, task, n_classes, "none").model  # the same network as the engine's
    kw = {"collate_fn": _collate_seg} if seg else {}
    n = len(train_items)
    train_dl = DataLoader(RefData(train_items, transforms(size, True, seg), seg),
                          batch_size=min(batch_size, n), shuffle=True,
                          drop_last=n > batch_size, **kw)  # fmt: skip
    valid_dl = DataLoader(RefData(valid_items, transforms(size, False, seg), seg),
                          batch_size=batch_size, **kw)  # fmt: skip
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=REF_WD)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * len(train_dl))
    for _ in range(epochs):
        model.train()
        for x, y in train_dl:
            loss = F.cross_entropy(model(x), y, ignore_index=IGNORE)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():  # per-epoch validation, as the references do
            for x, y in valid_dl:
                F.cross_entropy(model(x), y, ignore_index=IGNORE)
    return model, time.perf_counter() - t0


@torch.no_grad()
def predict_reference(model, items, size: int, seg: bool) -> list:
    """Class index per image, or a mask at the image's own size (logits resized, then argmax)."""
    tf = transforms(size, False, False)
    out = []
    for path, _ in items:
        im = Image.open(path).convert("RGB")
        x = tf(tv_tensors.Image(v2.functional.pil_to_tensor(im)))[None]
        y = model(x)
        if seg:
            y = F.interpolate(y, size=(im.height, im.width), mode="bilinear", align_corners=False)
            out.append(y[0].argmax(0).numpy().astype(np.uint8))
        else:
            out.append(int(y[0].argmax()))
    return out


def predict_engine(model_path: Path, items, seg: bool, class_names: list[str]) -> list:
    """The engine's own predictor (models/best.pt) on the same items."""
    from engine.predict.predictor import Predictor

    pred = Predictor.from_path(model_path, device="cpu")
    res = pred.predict_many([p for p, _ in items])
    if seg:
        return [r.mask for r in res]
    return [class_names.index(r.label) for r in res]


def score(preds: list, items, seg: bool, n_classes: int) -> float:
    """Accuracy, or mean IoU over the classes present in the targets or the predictions."""
    if not seg:
        return float(np.mean([p == t for p, (_, t) in zip(preds, items, strict=True)]))
    conf = np.zeros((n_classes, n_classes), np.int64)
    for p, (_, mpath) in zip(preds, items, strict=True):
        t = np.array(Image.open(mpath), np.int64)
        keep = t != IGNORE
        conf += np.bincount(t[keep] * n_classes + p[keep].astype(np.int64),
                            minlength=n_classes**2).reshape(n_classes, n_classes)  # fmt: skip
    tp = np.diag(conf)
    union = conf.sum(0) + conf.sum(1) - tp
    present = union > 0
    return float((tp[present] / union[present]).mean())

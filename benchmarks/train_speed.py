"""Training speed: the engine side by side with a plain PyTorch loop, in one process.

    python benchmarks/train_speed.py --json [--n 1000] [--quick]

Generates N JPEGs (300-800 px, varied content) and a project from them, then times, in
alternating windows (engine, reference, engine, ...; medians reported, so machine noise hits
both alike):
- engine_img_s / reference_img_s: resnet18, 128 px, batch 32, fp32, unfrozen. The engine runs
  its real data path (RAM cache, crop/flip, batch rotation, normalise) and its train step; the
  reference decodes every JPEG with PIL, RandomResizedCrop + flip + normalise in a DataLoader,
  AdamW with one-cycle.  ratio = engine / reference (floor 1.0).
- frozen_ratio: engine frozen (body without gradients) over engine unfrozen (floor 1.4).
- cached_ratio: mobilenet_v3_small at 128 px, epochs after the first, over the same network
  training on ready-made tensors (floor 0.9).
- peak_rss_mb: the process's peak resident memory after the resnet18 runs (limit 1500).
- seg_engine_img_s / seg_reference_img_s: lraspp_mobilenet_v3_large, 256 px, batch 8.
Weights are random ("none"): throughput does not depend on them, and nothing is downloaded.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.config import TrainConfig  # noqa: E402
from engine.project.store import NewImage, Project  # noqa: E402


def make_images(folder: Path, n: int, seed: int = 0, masks: bool = False) -> list[tuple]:
    """N JPEGs with gradients, shapes and noise; label = which shape dominates (and masks)."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        w, h = (int(v) for v in rng.integers(300, 801, 2))
        base = np.linspace(0, 1, w)[None, :, None] * rng.integers(0, 255, 3)
        base = base + np.linspace(0, 1, h)[:, None, None] * rng.integers(0, 255, 3)
        arr = np.clip(base / 2 + rng.normal(0, 12, (h, w, 3)), 0, 255).astype(np.uint8)
        im = Image.fromarray(arr)
        d = ImageDraw.Draw(im)
        mask = Image.new("L", (w, h), 0)
        dm = ImageDraw.Draw(mask)
        label = "circles" if i % 2 else "boxes"
        for _ in range(int(rng.integers(2, 6))):
            x0, y0 = int(rng.integers(0, w - 60)), int(rng.integers(0, h - 60))
            x1, y1 = x0 + int(rng.integers(30, 200)), y0 + int(rng.integers(30, 200))
            col = tuple(int(c) for c in rng.integers(0, 255, 3))
            (d.ellipse if label == "circles" else d.rectangle)([x0, y0, x1, y1], fill=col)
            dm.ellipse([x0, y0, x1, y1], fill=1) if label == "circles" else dm.rectangle(
                [x0, y0, x1, y1], fill=2
            )
        p = folder / f"img_{i:05d}.jpg"
        im.save(p, quality=90)
        mp = None
        if masks:
            mp = folder / f"img_{i:05d}_mask.png"
            mask.save(mp)
        out.append((p, label, mp, w, h))
    return out


def make_project(path: Path, images: list[tuple], task: str) -> Project:
    import shutil

    project = Project.create(path, task)
    if task == "segmentation":
        project.ensure_classes(["background", "circle", "box"])
    items = []
    for k, (p, label, mp, w, h) in enumerate(images):
        rel = f"images/{p.name}"
        shutil.copy(p, project.path / rel)
        mrel = None
        if mp is not None:
            mrel = f"masks/{mp.name}"
            shutil.copy(mp, project.path / mrel)
        items.append(NewImage(
            file=rel, name=p.name, source=str(p), sha1=f"{k:040d}", width=w, height=h,
            labels=[label] if task == "classification" else [], mask=mrel,
            split="valid" if k % 10 == 9 else "train",
        ))  # fmt: skip
    project.add_images(items)
    return project


# ---------------------------------------------------------------------------- engine side
class EngineLoop:
    """The engine's real per-batch path: loader (cache, augment, collate), batch prep, step."""

    def __init__(self, project, arch: str, size: int, bs: int, frozen: bool):
        from engine.training.fit import make_optimizer
        from engine.training.setup import build_run

        cfg = TrainConfig(arch=arch, weights="none", image_size=size, batch_size=bs,
                          device="cpu", lr=1e-3, epochs=1000, freeze_epochs=0)  # fmt: skip
        self.run = build_run(project, cfg)
        self.bs = bs
        (self.run.bundle.freeze_body if frozen else self.run.bundle.unfreeze)()
        steps = 1000 * len(self.run.train_loader)
        self.opt, self.sched = make_optimizer(self.run.bundle, 1e-3, frozen, 0.01, steps)
        self.it = self._batches()

    def _batches(self):
        while True:
            yield from self.run.learner.batches(self.run.train_loader)

    def set_frozen(self, frozen: bool) -> None:
        from engine.training.fit import make_optimizer

        (self.run.bundle.freeze_body if frozen else self.run.bundle.unfreeze)()
        steps = 1000 * len(self.run.train_loader)
        self.opt, self.sched = make_optimizer(self.run.bundle, 1e-3, frozen, 0.01, steps)

    def warm_cache(self) -> None:
        """One pass over the data (what the first epoch does), so timing sees epochs 2+."""
        for _ in self.run.train_loader:
            pass

    def window(self, n_batches: int) -> float:
        self.run.bundle.model.train()
        x, y, _ = next(self.it)
        self.run.learner.train_step(x, y, self.opt, self.sched)  # pipeline primed
        t0, imgs = time.perf_counter(), 0
        for _ in range(n_batches):
            x, y, _ = next(self.it)
            self.run.learner.train_step(x, y, self.opt, self.sched)
            imgs += x.shape[0]
        return imgs / (time.perf_counter() - t0)


# ---------------------------------------------------------------------------- reference side
class RefDataset:
    def __init__(self, items, size: int, seg: bool):
        from torchvision import transforms as T  # noqa: N812

        self.items, self.seg, self.size = items, seg, size
        norm = T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
        self.tf = T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip(), T.ToTensor(),
                             norm])  # fmt: skip

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        import torch
        from torchvision import tv_tensors
        from torchvision.transforms import v2

        p, label, mp, _, _ = self.items[i]
        im = Image.open(p).convert("RGB")
        if not self.seg:
            return self.tf(im), int(label == "circles")
        img = tv_tensors.Image(torch.from_numpy(np.array(im)).permute(2, 0, 1))
        mask = tv_tensors.Mask(torch.from_numpy(np.array(Image.open(mp))))
        tf = v2.Compose([v2.RandomResizedCrop(self.size), v2.RandomHorizontalFlip(),
                         v2.ToDtype(torch.float32, scale=True),
                         v2.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])  # fmt: skip
        img, mask = tf(img, mask)
        return img.as_subclass(torch.Tensor), mask.as_subclass(torch.Tensor).long()


class RefLoop:
    """A plain PyTorch training loop (torchvision-tutorial style)."""

    def __init__(self, items, arch: str, size: int, bs: int, seg: bool = False):
        import torch
        from torch.utils.data import DataLoader

        from engine.models.registry import build_model

        self.model = build_model(arch, "segmentation" if seg else "classification",
                                 3 if seg else 2, "none").model  # fmt: skip
        self.loader = None
        if items:
            self.loader = DataLoader(RefDataset(items, size, seg), batch_size=bs, shuffle=True,
                                     drop_last=True)  # fmt: skip
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=0.01)
        self.sched = torch.optim.lr_scheduler.OneCycleLR(self.opt, 1e-3, total_steps=10**6)
        self.it = self._batches()

    def _batches(self):
        while True:
            yield from self.loader

    def step(self, x, y) -> None:
        import torch.nn.functional as F  # noqa: N812

        loss = F.cross_entropy(self.model(x), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.sched.step()

    def window(self, n_batches: int) -> float:
        self.model.train()
        self.step(*next(self.it))
        t0, imgs = time.perf_counter(), 0
        for _ in range(n_batches):
            x, y = next(self.it)
            self.step(x, y)
            imgs += x.shape[0]
        return imgs / (time.perf_counter() - t0)


class ReadyTensors(RefLoop):
    """The same network trained on tensors already in memory: the compute limit."""

    def __init__(self, arch: str, size: int, bs: int, channels_last: bool = True):
        import torch

        super().__init__([], arch, size, bs)
        if channels_last:
            self.model.to(memory_format=torch.channels_last)
        x = torch.randn(bs, 3, size, size)
        self.batch = (x.contiguous(memory_format=torch.channels_last) if channels_last else x,
                      torch.randint(0, 2, (bs,)))  # fmt: skip

    def window(self, n_batches: int) -> float:
        self.model.train()
        self.step(*self.batch)
        t0 = time.perf_counter()
        for _ in range(n_batches):
            self.step(*self.batch)
        return n_batches * self.batch[0].shape[0] / (time.perf_counter() - t0)


def probe_rss(project_dir: str) -> int:
    """Child process: the engine alone trains resnet18 (128 px, batch 32) over the whole cached
    project; prints its peak resident memory in MB."""
    project = Project.open(project_dir)
    eng = EngineLoop(project, "resnet18", 128, 32, frozen=False)
    eng.warm_cache()
    eng.window(len(eng.run.train_loader))
    print(peak_rss_mb())
    return 0


def peak_rss_mb() -> int:
    """This process's peak RSS. VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the
    forking parent into an exec'd child, so a child would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def rss_of_engine_alone(project_dir: Path) -> int:
    """Peak RSS of a separate process running only the engine (the in-process figure would
    also count the reference loop's model and buffers)."""
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--probe-rss", str(project_dir)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return int(out.stdout.strip().splitlines()[-1])


def log(res: dict) -> None:
    print("partial:", json.dumps(res), file=sys.stderr, flush=True)


def alternate(a, b, rounds: int, n_batches: int) -> tuple[float, float, float]:
    """Median img/s of a and of b over alternating windows, and the median of the per-round
    a/b ratios (each pair ran back to back, so a burst of load elsewhere hits both)."""
    ra, rb = [], []
    for _ in range(rounds):
        ra.append(a(n_batches))
        rb.append(b(n_batches))
    ratio = statistics.median(x / y for x, y in zip(ra, rb, strict=True))
    return statistics.median(ra), statistics.median(rb), ratio


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--n", type=int, default=1000, help="images to generate")
    ap.add_argument("--quick", action="store_true", help="fewer images and timing windows")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    ap.add_argument("--probe-rss", metavar="PROJECT", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    import os

    import torch

    from engine.devices import set_cpu_threads

    set_cpu_threads(False)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.probe_rss:
        return probe_rss(args.probe_rss)
    torch.manual_seed(0)
    n = min(args.n, 200) if args.quick else args.n
    rounds, win = (3, 3) if args.quick else (9, 3)
    res: dict = {"n_images": n, "threads": torch.get_num_threads(),
                 "load_avg_start": round(os.getloadavg()[0], 2)}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        images = make_images(tmp / "src", n)
        project = make_project(tmp / "proj", images, "classification")
        res["generate_s"] = round(time.perf_counter() - t0, 1)
        train_items = [im for k, im in enumerate(images) if k % 10 != 9]

        eng = EngineLoop(project, "resnet18", 128, 32, frozen=False)
        t0 = time.perf_counter()
        eng.warm_cache()
        res["first_pass_s"] = round(time.perf_counter() - t0, 1)
        log(res)
        ref = RefLoop(train_items, "resnet18", 128, 32)
        e, r, q = alternate(eng.window, ref.window, rounds, win)
        res.update(engine_img_s=round(e, 1), reference_img_s=round(r, 1), ratio=round(q, 3))

        def frozen_win(k):
            eng.set_frozen(True)
            return eng.window(k)

        def unfrozen_win(k):
            eng.set_frozen(False)
            return eng.window(k)

        f, u, q = alternate(frozen_win, unfrozen_win, rounds, win)
        res.update(frozen_img_s=round(f, 1), unfrozen_img_s=round(u, 1),
                   frozen_ratio=round(q, 3))  # fmt: skip
        res["peak_rss_mb"] = rss_of_engine_alone(tmp / "proj")
        log(res)
        eng = ref = None

        light = EngineLoop(project, "mobilenet_v3_small", 128, 32, frozen=False)
        light.warm_cache()
        ready = ReadyTensors("mobilenet_v3_small", 128, 32)
        c, t, q = alternate(light.window, ready.window, rounds, win * 2)
        res.update(cached_img_s=round(c, 1), ready_tensors_img_s=round(t, 1),
                   cached_ratio=round(q, 3))  # fmt: skip
        log(res)
        light = ready = None

        n_seg = min(n, 40 if args.quick else 120)
        seg_imgs = make_images(tmp / "seg", n_seg, seed=1, masks=True)
        seg_proj = make_project(tmp / "segproj", seg_imgs, "segmentation")
        seg_eng = EngineLoop(seg_proj, "lraspp_mobilenet_v3_large", 256, 8, frozen=False)
        seg_eng.warm_cache()
        seg_ref = RefLoop([im for k, im in enumerate(seg_imgs) if k % 10 != 9],
                          "lraspp_mobilenet_v3_large", 256, 8, seg=True)  # fmt: skip
        se, sr, q = alternate(seg_eng.window, seg_ref.window, rounds, win)
        res.update(seg_engine_img_s=round(se, 1), seg_reference_img_s=round(sr, 1),
                   seg_ratio=round(q, 3))  # fmt: skip
    res["process_peak_rss_mb"] = peak_rss_mb()
    res["load_avg_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(res) if args.json else json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

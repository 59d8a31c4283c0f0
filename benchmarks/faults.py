"""Fault matrix (issue 12): imports killed with SIGKILL at several points, and a full disk during
an import, a training checkpoint write and an export. Prints counts; all zeros is the goal:

  runs          fault runs made
  files_lost    images not in the project after the user redoes the import (or, for training
                and export, a project that no longer opens / an export file half-written)
  orphans_left  after the next open: copies with no row, temporary or zero-byte files, rows
                with no file, images without a split, stray .tmp files
  tracebacks    Python tracebacks (or crashes) printed by the commands a user runs
  outside_writes files outside the project written or created by what a project file says
                (issue 19: measured in the hostile-project cases)

Hostile projects (issue 19, benchmarks/faults_hostile.py): paths out of the project in
project.db and run ids, restore while the project is open elsewhere, a mask of the wrong size,
damaged project files under every command, read-only lr-find / use-run, a full disk when the
model in use is written, kill -9 while training or export writes its model.

Kill points: the named points of tests/support/faults.py (mid-copy, between naming and commit,
after a commit, before splits) plus kills at fixed delays after the import started. Disk full:
a tmpfs of a few MB where this process may mount one (root), else the same failure injected
(OSError(ENOSPC) from the copy, torch.save and the export writer) in a child process.

    python benchmarks/faults.py --json [--n 2000] [--inject] [--skip-kills]
                                       [--skip-hostile | --only-hostile]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import faults_hostile  # noqa: E402
from engine.project.store import Project  # noqa: E402
from tests.support import faults  # noqa: E402

PLAIN_IMPORT = r"""
import sys
from engine.imports import api, pipeline
from engine.project.store import Project
project = Project.open(sys.argv[1])
print("go", flush=True)
plan = api.ImportPlan(tuning=pipeline.ImportTuning(batch=int(sys.argv[3])))
api.import_folder(project, sys.argv[2], plan=plan)
"""

INJECTED = r"""
import errno, os, sys
from pathlib import Path
import torch
from cli.main import run
from engine.imports import copies, pipeline
from engine.export import backends
case, args = sys.argv[1], sys.argv[2:]
full = OSError(errno.ENOSPC, "No space left on device")
if case == "import":  # the 100th copy and every later one find the disk full
    write_temp, calls = copies.Copies.write_temp, [0]
    def patched(self, folder, ext, write):
        calls[0] += 1
        if calls[0] < 100:
            return write_temp(self, folder, ext, write)
        def half(f):
            f.write(b"half")
            raise full
        return write_temp(self, folder, ext, half)
    copies.Copies.write_temp = patched
elif case == "train":
    def save(obj, f, *a, **k):
        f.write(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 2 vs 0")
    torch.save = save
elif case == "export":
    def write_model(fmt, wrapped, size, path, exporter="legacy"):
        Path(path).write_bytes(b"half a model")
        raise full
    backends.write_model = write_model
sys.exit(run(args))
"""

TRAIN = ["--arch", "mobilenet_v3_small", "--weights", "none", "--epochs", "1"]
TRAIN += ["--image-size", "32", "--batch-size", "8", "--device", "cpu"]


def _cli(*args: str, injected: str = "") -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-c", INJECTED, injected, *args] if injected else [
        sys.executable, str(ROOT / "main.py"), *args]  # fmt: skip
    return subprocess.run(
        cmd, cwd=ROOT, env=faults.child_env(), capture_output=True, text=True, timeout=600
    )


def _traceback(proc: subprocess.CompletedProcess) -> int:
    return int("Traceback" in proc.stderr or proc.returncode not in (0, 1))


def _leftovers(project_dir: Path) -> int:
    a = faults.audit(project_dir)
    n = len(a["orphans"]) + len(a["temps"]) + len(a["empty"]) + len(a["missing"]) + a["unsplit"]
    return n + sum(1 for p in project_dir.rglob("*.tmp"))


def _after_kill(project_dir: Path, src: Path, n: int, counts: dict, row: dict) -> None:
    row["orphans_left"] = _leftovers(project_dir)
    again = faults.reimport(project_dir, src)
    row["tracebacks"] = _traceback(again)
    final = faults.audit(project_dir)
    row["files_lost"] = n - final["rows"] + len(final["renamed"])
    for k in ("files_lost", "orphans_left", "tracebacks"):
        counts[k] += row[k]
    counts["runs"] += 1


def kill_matrix(work: Path, src: Path, n: int, batch: int, counts: dict) -> list[dict]:
    rows = []
    named = [("copying", 5), ("copying", n // 2), ("named", 2), ("committed", n // batch - 1)]
    named.append(("splitting", 1))
    for point, at in named:
        project_dir = work / f"kill-{point}-{at}"
        Project.create(project_dir, "classification").close()
        rc = faults.killed_import(project_dir, src, point, at, batch)
        row = {"case": f"kill {point} #{at}", "killed": rc == -signal.SIGKILL}
        _after_kill(project_dir, src, n, counts, row)
        rows.append(row)
    full = _timed_import(work / "timing", src, batch, None)
    for share in (0.2, 0.5, 0.8):
        delay = round(full * share, 3)
        project_dir = work / f"kill-after-{delay}s"
        rc = _timed_import(project_dir, src, batch, delay)
        row = {"case": f"kill after {delay}s ({share:.0%})", "killed": rc == -signal.SIGKILL}
        _after_kill(project_dir, src, n, counts, row)
        rows.append(row)
    return rows


def _timed_import(project_dir: Path, src: Path, batch: int, kill_after: float | None) -> float:
    """Import `src` into a new project in a child; SIGKILL it `kill_after` seconds after the
    import began. Returns the child's return code, or (kill_after None) the import's seconds."""
    Project.create(project_dir, "classification").close()
    proc = subprocess.Popen(
        [sys.executable, "-c", PLAIN_IMPORT, str(project_dir), str(src), str(batch)],
        cwd=ROOT,
        env=faults.child_env(),
        stdout=subprocess.PIPE,
        text=True,
    )
    proc.stdout.readline()  # "go": the import starts now
    t0 = time.perf_counter()
    if kill_after is None:
        proc.wait()
        return time.perf_counter() - t0
    time.sleep(kill_after)
    proc.send_signal(signal.SIGKILL)
    return proc.wait()


def disk_full(work: Path, counts: dict, mount: bool) -> list[dict]:
    """Import, training checkpoint and export onto a full disk (tmpfs, or injected)."""
    from tests.support.weights import save_tiny_model

    rows = []
    big = faults.write_sources(work / "big", 300, size=48)  # ~2 MB of incompressible PNGs
    small = faults.write_sources(work / "small", 24, size=32)
    model = save_tiny_model(work / "model.pt", "classification", "mobilenet_v3_small", ("a", "b"))
    for case in ("import", "train", "export"):
        where = work / f"full-{case}"
        size = {"import": "2m", "train": "3m", "export": "1m"}[case]
        ctx = faults.tmpfs(where, size) if mount else _plain(where)
        with ctx as disk:
            row = {"case": f"disk full: {case}", "how": "tmpfs " + size if mount else "injected"}
            inj = "" if mount else case
            if case == "import":
                proc = _cli("new", str(disk / "p"), "--from", str(big), injected=inj)
            elif case == "train":
                _cli("new", str(disk / "p"), "--from", str(small))
                proc = _cli("train", str(disk / "p"), *TRAIN, injected=inj)
            else:
                proc = _cli("export", str(model), "--out", str(disk / "out"), injected=inj)
            row["message"] = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else ""
            row["failed_cleanly"] = proc.returncode == 1 and "free disk space" in row["message"]
            row["tracebacks"] = _traceback(proc)
            if case == "export":
                out = disk / "out"
                row["orphans_left"] = len(list(out.iterdir())) if out.exists() else 0
                row["files_lost"] = 0
            else:
                row["orphans_left"] = _leftovers(disk / "p")
                if mount:
                    faults.resize(disk, "64m")
                again = faults.reimport(disk / "p", big if case == "import" else small)
                row["tracebacks"] += _traceback(again)
                n = 300 if case == "import" else 24
                final = faults.audit(disk / "p")
                row["files_lost"] = n - final["rows"] + len(final["renamed"])
            for k in ("files_lost", "orphans_left", "tracebacks"):
                counts[k] += row[k]
            counts["runs"] += 1
            rows.append(row)
    return rows


class _plain:
    """Stands in for faults.tmpfs when no mount is permitted: an ordinary folder."""

    def __init__(self, where: Path):
        self.where = where

    def __enter__(self) -> Path:
        self.where.mkdir(parents=True, exist_ok=True)
        return self.where

    def __exit__(self, *exc) -> None:
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--n", type=int, default=2000, help="images in the killed imports")
    ap.add_argument("--batch", type=int, default=50, help="files committed per transaction")
    ap.add_argument("--inject", action="store_true", help="inject disk full even as root")
    ap.add_argument("--skip-kills", action="store_true", help="no killed imports")
    ap.add_argument("--skip-hostile", action="store_true", help="no hostile-project cases")
    ap.add_argument("--only-hostile", action="store_true", help="only the hostile-project cases")
    args = ap.parse_args()
    counts = {"runs": 0, "files_lost": 0, "outside_writes": 0, "orphans_left": 0, "tracebacks": 0}
    why_not = "--inject given" if args.inject else faults.can_mount()
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="topdown-faults-") as tmp:
        work = Path(tmp)
        cases = []
        if not args.only_hostile:
            src = faults.write_sources(work / "src", args.n)
            cases += [] if args.skip_kills else kill_matrix(work, src, args.n, args.batch, counts)
            cases += disk_full(work, counts, mount=not why_not)
        if not args.skip_hostile:
            small = faults.write_sources(work / "hostile-src", 24, size=32)
            cases += faults_hostile.hostile(work / "hostile", small, counts)
    out = {
        **counts,
        "disk_full": "tmpfs" if not why_not else f"injected ({why_not})",
        "n_images": args.n,
        "seconds": round(time.perf_counter() - t0, 1),
        "cases": cases,
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for row in cases:
            print(row)
        print({k: out[k] for k in counts})
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())

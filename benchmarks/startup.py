"""Start-up time of the GUI: process start to the main window's first paint.

Runs ``python main.py --startup-probe`` in fresh subprocesses (settings in a temp dir) and
prints the median. The probe reports the wall-clock time of the first paint and whether torch
was already imported then (it must not be: the window comes first).

    python benchmarks/startup.py [--runs 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.5  # the window must be up within half a second


def one_run(env: dict) -> tuple[float, bool]:
    start = time.time()
    out = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--startup-probe"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("{")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"probe failed (rc {out.returncode}): {out.stderr[-2000:]}")
    info = json.loads(line)
    return info["shown_at"] - start, bool(info["torch_loaded"])


def python_floor(env: dict) -> float:
    """Time for a bare `python -c pass`, for scale on a loaded machine."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env["TOPDOWN_CONFIG_DIR"] = tmp
        one_run(env)  # warm the file cache; not counted
        times, torch_seen = [], False
        for _ in range(args.runs):
            t, torch_loaded = one_run(env)
            times.append(t)
            torch_seen |= torch_loaded
        floor = statistics.median(python_floor(env) for _ in range(3))
    result = {
        "window_shown_s": round(statistics.median(times), 3),
        "window_shown_min_s": round(min(times), 3),
        "window_shown_max_s": round(max(times), 3),
        "runs": args.runs,
        "target_s": TARGET_S,
        "python_bare_start_s": round(floor, 3),
        "torch_imported_before_window": torch_seen,
        "platform": env["QT_QPA_PLATFORM"],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>30}: {v}")
    return 0 if not torch_seen else 1


if __name__ == "__main__":
    sys.exit(main())

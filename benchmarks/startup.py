"""Start-up time of the GUI: process start to the main window's first paint.

Runs ``python main.py --startup-probe`` in fresh subprocesses (settings in a temp dir) and
prints the median. The probe reports the wall-clock time of the first paint and whether torch
was already imported then (it must not be: the window comes first). ``--bundle PATH`` runs an
installed/bundled ``topdown`` executable's probe instead (from ``/``; ``--clean-env`` gives it
only HOME, PATH=/usr/bin:/bin and the Qt platform, as a fresh login would).

    python benchmarks/startup.py [--runs 7] [--json] [--bundle dist/topdown/topdown]
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
BUNDLE_TARGET_S = 1.0  # an installed bundle: within a second (it unpacks nothing, but loads more)


def one_run(env: dict, bundle: str | None = None) -> tuple[float, bool]:
    cmd = [bundle] if bundle else [sys.executable, str(ROOT / "main.py")]
    start = time.time()
    out = subprocess.run(
        [*cmd, "--startup-probe"],
        env=env,
        cwd="/" if bundle else ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("{")), None)
    if out.returncode != 0 or line is None:
        raise RuntimeError(f"probe failed (rc {out.returncode}): {out.stderr[-2000:]}")
    info = json.loads(line)
    return info["shown_at"] - start, bool(info["torch_loaded"])


def python_floor(env: dict, bundle: str | None = None) -> float:
    """Time for a bare `python -c pass` (or the bundle's `topdown-cli --version`), for scale
    on a loaded machine."""
    cmd = [sys.executable, "-c", "pass"]
    if bundle:
        cmd = [str(Path(bundle).resolve().with_name("topdown-cli")), "--version"]
    start = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--bundle", metavar="PATH", help="a bundled topdown executable to time")
    ap.add_argument("--clean-env", action="store_true", help="with --bundle: env -i like")
    args = ap.parse_args(argv)
    bundle = str(Path(args.bundle).absolute()) if args.bundle else None
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ)
        if bundle and args.clean_env:
            env = {"HOME": tmp, "PATH": "/usr/bin:/bin"}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env["TOPDOWN_CONFIG_DIR"] = tmp
        # with --bundle, `python main.py` from this tree runs in turn: the reference under the
        # same load (this machine's load varies more than the bundle's overhead)
        src_env = dict(os.environ, QT_QPA_PLATFORM=env["QT_QPA_PLATFORM"])
        src_env.update(TOPDOWN_CONFIG_DIR=tmp, PYTHONPATH=str(ROOT))
        one_run(env, bundle)  # warm the file cache; not counted
        times, ref_times, torch_seen = [], [], False
        for _ in range(args.runs):
            t, torch_loaded = one_run(env, bundle)
            times.append(t)
            torch_seen |= torch_loaded
            if bundle:
                ref_times.append(one_run(src_env)[0])
        floor = statistics.median(python_floor(env, bundle) for _ in range(3))
    result = {
        "window_shown_s": round(statistics.median(times), 3),
        "window_shown_min_s": round(min(times), 3),
        "window_shown_max_s": round(max(times), 3),
        "runs": args.runs,
        "target_s": BUNDLE_TARGET_S if bundle else TARGET_S,
        "bundle": bundle,
        "source_window_shown_s": round(statistics.median(ref_times), 3) if bundle else None,
        "bundle_vs_source": (
            round(statistics.median(times) / statistics.median(ref_times), 2) if bundle else None
        ),
        ("bundle_cli_version_s" if bundle else "python_bare_start_s"): round(floor, 3),
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

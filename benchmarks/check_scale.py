"""Data health check at scale: `run_check` on a big project, cold (no hash cache) and warm.

Build the project once with `benchmarks/project_scale.py --keep DIR` (100k tiny PNGs), then:

    python benchmarks/check_scale.py --project DIR/project --json

`cold_s` decodes every image (dHash); `warm_s` reuses PROJECT/thumbs/dhash.npz. The floor is the
issue's: under 60 s for 100k images on a CPU.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR_S = 60.0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", required=True, help="a project folder (project_scale --keep)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from engine.check.checks import run_check
    from engine.check.hashing import CACHE_FILE
    from engine.project.store import Project

    project = Project.open(args.project)
    (project.path / CACHE_FILE).unlink(missing_ok=True)
    t = time.perf_counter()
    rep = run_check(project)
    cold = time.perf_counter() - t
    t = time.perf_counter()
    run_check(project)
    warm = time.perf_counter() - t
    project.close()
    result = {
        "n_images": rep.n_images,
        "cold_s": round(cold, 2),
        "warm_s": round(warm, 2),
        "findings": {f.kind: f.count for f in rep.findings},
        "floor_s": FLOOR_S,
        "ok": cold < FLOOR_S,
    }
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

"""Project scale: import, open and label a project of many (tiny) images.

Creates N distinct 8x8 PNGs in class folders, imports them with `engine.imports.api.import_folder`
(`import_s`), then measures `open_s`: open the project and show the first page of
thumbnails. When `gui.data.page.DataPage` exists this is the GUI path, offscreen:
`Project.open` + `DataPage.set_project` until the visible tiles' thumbnails (cold cache) have
arrived; otherwise the engine path (open, query, first 60 records and thumbnails).
`label_change_ms` is the median of 50 single-image label changes through `engine.project.history`
(each one saved). Also reports `counts_ms` and `query_ms` at that size.

    python benchmarks/project_scale.py --json [--n 100000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOORS = {"open_s": 2.0, "label_change_ms": 20.0}
PAGE = 60


def make_files(root: Path, n: int, classes: int = 10) -> None:
    """n distinct 8x8 PNGs in `classes` folders (content = the index, so no duplicates)."""
    import numpy as np
    from PIL import Image

    for c in range(classes):
        (root / f"class_{c}").mkdir(parents=True, exist_ok=True)
    base = np.zeros((8, 8, 3), np.uint8)
    for i in range(n):
        a = base.copy()
        a.reshape(-1)[:4] = np.frombuffer(i.to_bytes(4, "little"), np.uint8)
        a[4:, :, i % 3] = 40 + 20 * (i % 10)
        buf = io.BytesIO()
        Image.fromarray(a).save(buf, "PNG", compress_level=1)
        (root / f"class_{i % classes}" / f"img_{i:06d}.png").write_bytes(buf.getvalue())


def open_gui(path: Path) -> tuple[float, int, str]:
    """Seconds from Project.open to the visible thumbnails shown by the DataPage."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from engine.project.store import Project
    from gui.data.page import DataPage

    app = QApplication.instance() or QApplication([])
    page = DataPage()
    page.resize(1280, 860)
    page.show()
    app.processEvents()
    t0 = time.perf_counter()
    project = Project.open(path)
    page.set_project(project)
    deadline = t0 + 60
    while time.perf_counter() < deadline:
        app.processEvents()
        if page.loader.loaded_count > 0 and page.loader.pending() == 0:
            break
        time.sleep(0.001)
    elapsed = time.perf_counter() - t0
    shown = page.loader.loaded_count
    page.loader.shutdown()
    page.set_project(None)
    project.close()
    return elapsed, shown, "gui: DataPage.set_project until visible thumbnails shown (offscreen)"


def open_engine(path: Path) -> tuple[float, int, str]:
    from engine.project.store import Project
    from engine.project.thumbnails import thumbnail

    t0 = time.perf_counter()
    project = Project.open(path)
    ids = project.query()
    recs = project.images(ids[:PAGE])
    for r in recs:
        thumbnail(project, r, 128)
    elapsed = time.perf_counter() - t0
    project.close()
    return elapsed, len(recs), "engine: open, query, first page of records and thumbnails"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--keep", help="build in this folder and keep it")
    ap.add_argument("--engine-only", action="store_true", help="skip the GUI measurement")
    args = ap.parse_args(argv)

    from engine.imports.api import import_folder
    from engine.project.history import History
    from engine.project.store import Project

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="topdown-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        src = work / "src"
        t = time.perf_counter()
        if not src.is_dir():
            make_files(src, args.n)
        gen_s = time.perf_counter() - t

        proj_dir = work / "project"
        shutil.rmtree(proj_dir, ignore_errors=True)
        project = Project.create(proj_dir, "classification")
        t = time.perf_counter()
        report = import_folder(project, src)
        import_s = time.perf_counter() - t
        project.close()

        use_gui = not args.engine_only and (ROOT / "gui" / "data" / "page.py").is_file()
        open_s, shown, how = (open_gui if use_gui else open_engine)(proj_dir)

        project = Project.open(proj_dir)
        t = time.perf_counter()
        project.counts()
        counts_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        project.query(label="class_3", split="valid")
        query_ms = (time.perf_counter() - t) * 1000
        hist = History(project)
        ids = project.query()
        times = []
        for k in range(50):
            iid = ids[(k * 7919) % len(ids)]
            t = time.perf_counter()
            hist.set_labels([iid], [f"class_{k % 10}"])
            times.append((time.perf_counter() - t) * 1000)
        label_change_ms = statistics.median(times)
        project.close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    result = {
        "n": args.n,
        "added": len(report.added),
        "import_s": round(import_s, 2),
        "import_files_per_s": round(len(report.added) / import_s, 1) if import_s else None,
        "open_s": round(open_s, 3),
        "open_measured": how,
        "thumbnails_shown": shown,
        "label_change_ms": round(label_change_ms, 2),
        "counts_ms": round(counts_ms, 1),
        "query_ms": round(query_ms, 1),
        "generate_files_s": round(gen_s, 2),
        "floors": FLOORS,
        "ok": open_s < FLOORS["open_s"] and label_change_ms < FLOORS["label_change_ms"],
    }
    if args.json:
        print(json.dumps(result))
    else:
        for k, v in result.items():
            print(f"{k:>20}: {v}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

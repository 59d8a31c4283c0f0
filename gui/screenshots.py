"""Screenshots for the README: the start page, and the main window with the demo project open.

    python -m gui.screenshots OUTDIR          (offscreen by default)
    python -m gui.screenshots OUTDIR mask_editor   (only the mask editor)
    xvfb-run -a -s "-screen 0 1280x1024x24" python -m gui.screenshots OUTDIR   (real X server)

Settings and the demo project go to a temporary folder, so the user's own are untouched.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

SIZE = (1280, 800)


def _wait(app, seconds: float, until=None) -> bool:
    """Run the event loop for up to `seconds`, or until `until()` is true."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        if until is not None and until():
            return True
        time.sleep(0.02)
    return until is None


def take(outdir: Path, task: str = "classification") -> list[Path]:
    """Save start_page.png and main_window.png (and one per project page) under outdir."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = tempfile.mkdtemp(prefix="topdown-shots-")
    os.environ["TOPDOWN_CONFIG_DIR"] = str(Path(tmp) / "config")
    os.environ["TOPDOWN_DATA_DIR"] = str(Path(tmp) / "data")

    from gui.app import make_app
    from gui.common import settings
    from gui.window.main_window import MainWindow

    outdir.mkdir(parents=True, exist_ok=True)
    app = make_app([])
    # a couple of recent projects make the start page look like it does after a few days
    from engine.project.demo import create_demo_project

    for name in ("flowers", "defects"):
        create_demo_project(Path(tmp) / "examples" / name, n=4, size=32).close()
        settings.add_recent(Path(tmp) / "examples" / name)
    settings.add_recent(Path(tmp) / "examples" / "moved-away")
    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    _wait(app, 1.0)
    saved = []

    def save(widget, name: str) -> None:
        path = outdir / name
        widget.grab().save(str(path))
        saved.append(path)

    window.start_page.refresh()
    _wait(app, 0.3)
    save(window, "start_page.png")

    from gui.start.page import NewProjectDialog

    dlg = NewProjectDialog(window, name="flowers")
    dlg.show()
    _wait(app, 0.3)
    save(dlg, "new_project_dialog.png")
    dlg.close()
    save(_import_report(window, Path(tmp)), "import_report.png")

    window.projects.open_demo(task)
    if not _wait(app, 120, lambda: window.project is not None or any(window.last_message)):
        window.close()
        raise SystemExit("The demo project did not open.")
    if window.project is None:
        window.close()
        raise SystemExit(f"The demo project did not open: {window.last_message}")
    _wait(app, 3.0)  # thumbnails load in the background
    save(window, "main_window.png")
    for i in range(1, window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        _wait(app, 1.0)
        title = window.tabs.tabText(i).lower().replace(" ", "_")
        save(window, f"page_{title}.png")
    window.tabs.setCurrentIndex(0)
    window.close()
    app.processEvents()
    return saved


def _import_report(window, tmp: Path):
    """A real import (two images, one broken file, one duplicate) shown in the report dialog."""
    from PIL import Image

    from engine.imports.api import import_paths
    from engine.project.store import Project
    from gui.imports.report import ImportReportDialog

    src = tmp / "holiday"
    src.mkdir()
    for i, colour in enumerate(("#d04040", "#40a060")):
        Image.new("RGB", (32, 32), colour).save(src / f"beach_{i}.jpg")
    (src / "beach_copy.jpg").write_bytes((src / "beach_0.jpg").read_bytes())
    (src / "notes.jpg").write_bytes(b"not an image")
    with Project.create(tmp / "scratch", "classification") as project:
        report = import_paths(project, [src])
    dlg = ImportReportDialog(window, report)
    dlg.resize(640, 360)
    dlg.show()
    window.repaint()
    return dlg


def mask_editor(outdir: Path) -> Path:
    """mask_editor.png: the Data page's viewer painting a segmentation demo image: half the
    mask painted with real editor commands, a polygon being drawn and the brush outline."""
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from engine.project.demo import create_demo_project
    from gui.app import make_app
    from gui.data.page import DataPage

    app = make_app([])
    outdir.mkdir(parents=True, exist_ok=True)
    project = create_demo_project(
        Path(tempfile.mkdtemp(prefix="topdown-paint-")), "segmentation", n=12, size=160
    )
    page = DataPage(None)
    page.resize(*SIZE)
    page.show()
    page.set_project(project)
    page.open_viewer(page.model.index(3))
    v, ed = page.viewer, page.viewer.editor
    ed.paint_button.click()
    _wait(app, 0.5)
    full = project.read_mask(v.record.id)
    project.clear_mask(v.record.id)  # start from nothing, then paint most of it back
    _wait(app, 0.3)
    ed.pick_class(0)
    ed.set_tool("fill")
    ed.fill(2, 2)  # a real fill: the whole new mask becomes background
    h, w = full.shape
    v.mask[:] = full
    v.mask[h // 2 :, w // 2 :] = 255  # the lower right quarter is still to do (ignore)
    project.save_mask(v.record.id, v.mask.copy())  # the viewer reloads it from the file
    ed.set_tool("polygon")
    for x, y in ((0.55, 0.55), (0.9, 0.6), (0.92, 0.9), (0.6, 0.95)):
        ed.input._add_point(x * w, y * h)
    ed.input._draw_outline((0.56 * w, 0.75 * h))
    ed.pick_class(2)
    v.set_opacity(0.5)
    _wait(app, 0.5)
    path = outdir / "mask_editor.png"
    page.grab().save(str(path))
    page.set_project(None)
    page.shutdown()
    project.close()
    return path


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    task = argv[1] if len(argv) > 1 else "classification"
    if task == "mask_editor":
        print(mask_editor(Path(argv[0])))
        return 0
    for p in take(Path(argv[0]), task):
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main())

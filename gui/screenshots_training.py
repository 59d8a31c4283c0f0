"""Screenshots of the training side of the app, made from generated demo projects.

    python -m gui.screenshots_training OUTDIR

Saves training.png (the Train page mid-run, curves visible), evaluation.png (confusion matrix
and top losses after that run) and segmentation.png (a predicted mask over an image, beside the
ground truth). Everything trains from scratch (weights none) on small images, so it runs
offline in a few minutes on a laptop CPU.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def wait_for(app, until, timeout: float, what: str) -> None:
    """Process events until `until()` holds; TimeoutError naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not until():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)


def settle(app, seconds: float = 0.6) -> None:
    """Process events for `seconds` (layouts and repaints finish)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def _configure(project_dir: Path, **overrides) -> None:
    from engine.config import TrainConfig
    from engine.project.store import Project

    cfg = TrainConfig(weights="none", lr=2e-3, **overrides)
    with Project.open(project_dir) as p:
        p.save_settings(cfg.to_dict())


def _train(app, window, page_type, project_dir: Path, mid_run_shot: Path | None = None):
    """Open the project, click Train; grab the window mid-run (second epoch) if asked."""
    from engine.events import EpochEnd

    window.projects.open_project(str(project_dir))
    page = next(p for p in window.pages if isinstance(p, page_type))
    window.tabs.setCurrentWidget(page)
    wait_for(app, lambda: page.settings.arch.count() > 1, 120, "the list of networks")
    epochs: list = []

    def count(events):
        epochs.extend(e for e in events if isinstance(e, EpochEnd))

    window.bridge.events.connect(count)
    page.settings.train_button.click()
    if not window.bridge.busy:
        raise RuntimeError(f"Training did not start: {page.run.status.text()}")
    if mid_run_shot is not None:
        wait_for(
            app,
            lambda: (
                len(epochs) >= 2
                and page.run.plots.n_batches > len(epochs) * page.run.fit.steps_per_epoch + 2
            ),
            600,
            "the third epoch",
        )
        settle(app, 0.8)
        window.grab().save(str(mid_run_shot))
    wait_for(app, lambda: not window.bridge.busy, 900, "the end of training")
    window.bridge.events.disconnect(count)
    return page


def start(argv: list[str], usage: str):
    """(app, output folder, scratch folder) for a screenshot script called with one argument,
    the output folder (None after printing `usage` otherwise): offscreen Qt, the app's theme,
    settings and caches in the scratch folder so the user's own stay untouched."""
    if len(argv) != 1:
        print(usage)
        return None
    out = Path(argv[0])
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    tmp = Path(tempfile.mkdtemp(prefix="topdown-shots-"))
    os.environ.setdefault("TOPDOWN_CONFIG_DIR", str(tmp / "config"))
    os.environ.setdefault("TOPDOWN_CACHE_DIR", str(tmp / "cache"))

    from PySide6.QtWidgets import QApplication

    from gui.app import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    return app, out, tmp


def main(argv: list[str] | None = None) -> int:
    started = start(sys.argv[1:] if argv is None else argv, __doc__)
    if started is None:
        return 2
    app, out, tmp = started

    from engine.project.demo import create_demo_project
    from gui.evaluate.page import EvaluatePage
    from gui.predict.page import PredictPage
    from gui.train.page import TrainPage
    from gui.window.main_window import MainWindow

    window = MainWindow()
    window.resize(1400, 860)
    window.show()

    cls_dir, seg_dir = tmp / "shapes", tmp / "shapes-seg"
    create_demo_project(cls_dir, "classification", n=160, size=64).close()
    _configure(cls_dir, arch="resnet18", image_size=64, batch_size=16, freeze_epochs=1, epochs=5)
    _train(app, window, TrainPage, cls_dir, mid_run_shot=out / "training.png")
    evaluate = next(p for p in window.pages if isinstance(p, EvaluatePage))
    window.tabs.setCurrentWidget(evaluate)
    evaluate.reload()
    settle(app, 1.5)  # thumbnails arrive
    window.grab().save(str(out / "evaluation.png"))

    create_demo_project(seg_dir, "segmentation", n=60, size=64).close()
    _configure(
        seg_dir,
        arch="unet_resnet18",
        image_size=64,
        batch_size=8,
        freeze_epochs=0,
        epochs=8,
        rotate=False,
    )
    _train(app, window, TrainPage, seg_dir)
    predict = next(p for p in window.pages if isinstance(p, PredictPage))
    window.tabs.setCurrentWidget(predict)
    project = window.project
    valid = [r for r in project.images() if r.split == "valid"] or project.images()
    predict.predict_paths([str(project.abspath(valid[0].file))])
    wait_for(app, lambda: not window.bridge.busy and predict.list.count() > 0, 300, "prediction")
    settle(app, 0.8)
    window.grab().save(str(out / "segmentation.png"))
    window.close()
    for name in ("training.png", "evaluation.png", "segmentation.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Screenshots of the "understand the model" views, from a generated demo project.

    python -m gui.screenshots_interpret OUTDIR

Saves evaluate_heatmap.png (the Evaluate page: a validation image with its Grad-CAM overlay
beside the confusion matrix) and label_next.png (the Data page after "Label next": the image
the model is least sure of, open in the viewer). Trains a small network from scratch (weights
none, 64 px), so it runs offline in about a minute on a laptop CPU.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gui.screenshots_training import settle, start, wait_for

SIZE = (1280, 800)


def _trained_demo(folder: Path):
    """A classification demo project with a model trained for a few epochs (engine only)."""
    from engine.config import TrainConfig
    from engine.project.demo import create_demo_project
    from engine.training.train import train

    project = create_demo_project(folder, "classification", n=120, size=64)
    cfg = TrainConfig(weights="none", arch="resnet18", image_size=64, batch_size=16, epochs=4)
    cfg.lr, cfg.freeze_epochs = 2e-3, 0
    train(project, cfg)
    return project


def evaluate_heatmap(app, bridge, project, out: Path) -> Path:
    from gui.evaluate.page import EvaluatePage

    page = EvaluatePage(bridge)
    page.resize(*SIZE)
    page.show()
    page.set_project(project)
    page.items.selectRow(0)  # the most wrong validation image
    panel = page.inspect.panel
    panel.toggle.setChecked(True)
    wait_for(app, lambda: panel.current_map() is not None, 120, "the heatmap")
    panel.opacity.setValue(60)
    settle(app, 1.5)  # thumbnails arrive
    path = out / "evaluate_heatmap.png"
    page.grab().save(str(path))
    page.set_project(None)
    page.shutdown()
    return path


def label_next(app, bridge, project, out: Path) -> Path:
    from gui.data.page import DataPage
    from gui.state import AppState

    ids = project.query()
    project.set_labels(ids[::3], [])  # a third of the images still to label
    state = AppState()
    page = DataPage(bridge, state)
    page.resize(*SIZE)
    page.show()
    state.set_project(project)
    page.label_next.trigger()
    wait_for(app, lambda: not bridge.busy and page.viewer.isVisible(), 120, "the ranking")
    settle(app, 1.5)
    path = out / "label_next.png"
    page.grab().save(str(path))
    state.set_project(None)
    page.shutdown()
    return path


def main(argv: list[str] | None = None) -> int:
    started = start(sys.argv[1:] if argv is None else argv, __doc__)
    if started is None:
        return 2
    app, out, tmp = started

    from gui.bridge import EngineBridge

    bridge = EngineBridge()
    project = _trained_demo(tmp / "shapes")
    try:
        print(evaluate_heatmap(app, bridge, project, out))
        print(label_next(app, bridge, project, out))
    finally:
        bridge.shutdown(10000)
        project.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

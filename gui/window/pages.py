"""Extra pages of the main window (training, evaluation, prediction).

Each page is a QWidget with a `title` attribute and a `set_project(project | None)` method; it
gets the window's shared EngineBridge. The page modules are light (no torch, no pyqtgraph at
import), so building them costs little; the heavy parts load on first use.
"""

from __future__ import annotations


def extra_pages(window) -> list:
    """Pages to add after the data browser; `window` gives `window.bridge`."""
    from gui.evaluate.page import EvaluatePage
    from gui.predict.page import PredictPage
    from gui.train.page import TrainPage

    train = TrainPage(window.bridge, window)
    evaluate = EvaluatePage(window.bridge, window)
    predict = PredictPage(window.bridge, window)
    # a new model changes what the other two pages show
    train.trained.connect(evaluate.reload)
    train.trained.connect(predict.model_changed)
    return [train, evaluate, predict]

"""The project pages of the main window, in tab order: Data, Train, Evaluate, Predict.

Each page is a QWidget with a `title`; it gets the window's shared EngineBridge and AppState and
follows the state's open project. The page modules are light (no torch, no pyqtgraph at
import), so building them costs little; the heavy parts load on first use.
"""

from __future__ import annotations


def build_pages(bridge, state) -> list:
    """The pages, wired to each other where one's result changes what another shows."""
    from gui.data.page import DataPage
    from gui.evaluate.page import EvaluatePage
    from gui.predict.page import PredictPage
    from gui.train.page import TrainPage

    data = DataPage(bridge, state)
    train = TrainPage(bridge, state)
    evaluate = EvaluatePage(bridge, state)
    predict = PredictPage(bridge, state)
    # a new model changes what the other two pages show
    train.trained.connect(evaluate.reload)
    train.trained.connect(predict.model_changed)
    train.model_changed.connect(evaluate.reload)  # another run's model chosen
    train.model_changed.connect(predict.model_changed)
    return [data, train, evaluate, predict]

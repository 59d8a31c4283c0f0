"""File ▸ Export model…: asks for a format and a folder, runs engine.export on the bridge's
worker thread, and shows where the files went and what the parity check measured.
`ExportAction` takes its menu, the app state, the bridge, a parent for dialogs and
`show_message(title, text, warning=True)` for what it has to say."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMenu, QWidget

from gui.jobs.export import export_job
from gui.jobs.names import JobName

if TYPE_CHECKING:
    from gui.bridge import EngineBridge
    from gui.state import AppState

FORMAT_CHOICES = {  # what the dialog shows -> engine.export format
    "ONNX (.onnx) — onnxruntime, most other runtimes": "onnx",
    "TorchScript (.pt) — PyTorch without Topdown": "torchscript",
}


def missing_packages(fmt: str) -> list[str]:
    """The packages `fmt` needs that are not installed (found, not imported: instant)."""
    import importlib.util

    needs = ["onnx", "onnxruntime"] if fmt == "onnx" else []
    return [n for n in needs if importlib.util.find_spec(n) is None]


class ExportAction(QObject):
    """The menu action and its flow; enabled while the open project has a trained model."""

    def __init__(
        self,
        menu: QMenu,
        state: AppState,
        bridge: EngineBridge,
        parent: QWidget,
        show_message: Callable[..., object],
    ):
        super().__init__(parent)
        self.state, self.bridge = state, bridge
        self._parent = parent  # for the format and folder dialogs
        self._show_message = show_message
        self.action = QAction("&Export model…", parent)
        self.action.setStatusTip("Save the trained model as ONNX or TorchScript, with a card")
        self.action.triggered.connect(self.start)
        menu.addAction(self.action)
        menu.aboutToShow.connect(self.refresh)
        state.project_changed.connect(self.refresh)
        job = bridge.job(JobName.EXPORT)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        self.refresh()

    def _model(self) -> str | None:
        """The project's model in use, or None when there is no trained model."""
        from engine.predict.predictor import ModelFileError, resolve_model_path

        project = self.state.project
        if project is None:
            return None
        try:
            return str(resolve_model_path(project.path))
        except ModelFileError:
            return None

    def refresh(self, *_args) -> None:
        """Enable the action when the open project has a model (menu shown, project opened)."""
        self.action.setEnabled(self._model() is not None)

    # dialogs (tests replace these two)
    def ask_format(self) -> str | None:
        items = list(FORMAT_CHOICES)
        text, ok = QInputDialog.getItem(
            self._parent, "Export model", "Format of the exported model:", items, 0, False
        )
        return FORMAT_CHOICES[text] if ok else None

    def ask_folder(self, suggested: Path) -> str | None:
        folder = QFileDialog.getExistingDirectory(
            self._parent, "Folder for the exported model", str(suggested)
        )
        return folder or None

    @Slot()
    def start(self) -> None:
        model = self._model()
        if model is None:
            self._show_message(
                "No trained model", "Train a model in this project first, then export it."
            )
            return
        fmt = self.ask_format()
        if fmt is None:
            return
        if missing := missing_packages(fmt):  # said before a folder is chosen, not after
            self._show_message(
                "ONNX export needs two more packages",
                f"ONNX export needs {' and '.join(missing)}, which are not installed. Install "
                "them with\n\n    pip install 'topdown[export]'\n\nand export again. "
                "TorchScript export works without them.",
            )
            return
        suggested = self.state.project.path / "export" / fmt
        folder = self.ask_folder(suggested if suggested.is_dir() else suggested.parents[1])
        if folder is None:
            return
        if not self.bridge.submit(JobName.EXPORT, export_job, model, fmt, folder):
            self._show_message("Busy", "Wait for the running job to finish, then export.")

    @Slot(object)
    def _on_finished(self, report) -> None:
        p = report.parity
        agree = (
            f"\n{p.agreement:.2%} of predicted {p.agreement_of} agree."
            if p.agreement is not None
            else ""
        )
        self._show_message(
            "Model exported",
            f"{report.arch} ({report.task}) saved as {report.model_path}, with its card "
            f"model.json beside it.\n\nParity check on {p.n_images} {p.inputs}: the largest "
            f"difference from PyTorch is {p.max_abs_diff:.3g} (tolerance {p.tolerance:.3g})."
            + agree,
            warning=False,
        )

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._show_message("The model could not be exported", message)

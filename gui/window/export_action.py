"""File ▸ Export model…: asks for a format and a folder, runs engine.export on the bridge's
worker thread, and shows where the files went and what the parity check measured."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog

from gui.jobs.export import export_job
from gui.jobs.names import JobName

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

    def __init__(self, window, menu):
        super().__init__(window)
        self.window = window
        self.action = QAction("&Export model…", window)
        self.action.setStatusTip("Save the trained model as ONNX or TorchScript, with a card")
        self.action.triggered.connect(self.start)
        menu.addAction(self.action)
        menu.aboutToShow.connect(self.refresh)
        window.state.project_changed.connect(self.refresh)
        job = window.bridge.job(JobName.EXPORT)
        job.finished.connect(self._on_finished)
        job.failed.connect(self._on_failed)
        self.refresh()

    def _model(self) -> str | None:
        """The project's model in use, or None when there is no trained model."""
        from engine.predict.predictor import ModelFileError, resolve_model_path

        project = self.window.project
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
            self.window, "Export model", "Format of the exported model:", items, 0, False
        )
        return FORMAT_CHOICES[text] if ok else None

    def ask_folder(self, suggested: Path) -> str | None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Folder for the exported model", str(suggested)
        )
        return folder or None

    @Slot()
    def start(self) -> None:
        model = self._model()
        if model is None:
            self.window.show_message(
                "No trained model", "Train a model in this project first, then export it."
            )
            return
        fmt = self.ask_format()
        if fmt is None:
            return
        if missing := missing_packages(fmt):  # said before a folder is chosen, not after
            self.window.show_message(
                "ONNX export needs two more packages",
                f"ONNX export needs {' and '.join(missing)}, which are not installed. Install "
                "them with\n\n    pip install 'topdown[export]'\n\nand export again. "
                "TorchScript export works without them.",
            )
            return
        suggested = self.window.project.path / "export" / fmt
        folder = self.ask_folder(suggested if suggested.is_dir() else suggested.parents[1])
        if folder is None:
            return
        if not self.window.bridge.submit(JobName.EXPORT, export_job, model, fmt, folder):
            self.window.show_message("Busy", "Wait for the running job to finish, then export.")

    @Slot(object)
    def _on_finished(self, report) -> None:
        p = report.parity
        agree = (
            f"\n{p.agreement:.2%} of predicted {p.agreement_of} agree."
            if p.agreement is not None
            else ""
        )
        self.window.show_message(
            "Model exported",
            f"{report.arch} ({report.task}) saved as {report.model_path}, with its card "
            f"model.json beside it.\n\nParity check on {p.n_images} {p.inputs}: the largest "
            f"difference from PyTorch is {p.max_abs_diff:.3g} (tolerance {p.tolerance:.3g})."
            + agree,
            warning=False,
        )

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self.window.show_message("The model could not be exported", message)

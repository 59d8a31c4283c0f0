"""The errors the engine raises for people to read, in one place.

Each message names the file or setting at fault and says what to do; the CLI prints it on one
line, the GUI shows it as it is. They keep their older built-in bases (ValueError,
RuntimeError) so code that caught those still does. Per-file problems met during a job
(`engine.imaging.BadImage`) and cancellation (`engine.control.Cancelled`) are not failures of
the job and live with the code that raises them.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base of the engine's errors: the message is meant for the user."""


class ProjectError(EngineError):
    """A project cannot be created, opened or changed; the message says why."""


class NewerVersionError(ProjectError):
    """The project was written by a newer Topdown than this one."""


class TrainingError(EngineError):
    """Training cannot start or go on (no labels, empty split, bad mask, ...); says what to fix."""


class DivergedError(TrainingError):
    """The loss became NaN or infinite."""


class WeightsError(EngineError, ValueError):
    """A weights file that cannot be used; the message names the file and the problem."""


class WeightsUnavailable(WeightsError):
    """Pretrained weights are not cached and cannot be downloaded (e.g. offline)."""


class ModelFileError(EngineError, ValueError):
    """A model file or project that cannot be used for prediction; names the path."""


class DeviceError(EngineError, RuntimeError):
    """The asked-for device is not available on this computer."""


class DamagedProjectError(ProjectError):
    """The project's database is damaged or missing; `path` is the project folder, which
    `engine.project.backup.restore` can repair from a backup."""

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path

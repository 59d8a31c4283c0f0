"""Per-user GUI settings (window geometry, recent projects) and the app's user folders.

Settings live in an INI file under ``TOPDOWN_CONFIG_DIR`` when that is set (tests, portable
installs), else in platformdirs' user config dir. Project data never goes here: a project is
its own folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QWidget

APP = "topdown"
MAX_RECENT = 10


def config_dir() -> Path:
    env = os.environ.get("TOPDOWN_CONFIG_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    """Where the app keeps what it generates for the user (the demo projects).

    ``TOPDOWN_DATA_DIR`` wins; with only ``TOPDOWN_CONFIG_DIR`` set (an isolated setup) the data
    sits next to the settings, so nothing leaks into the real user folders.
    """
    env = os.environ.get("TOPDOWN_DATA_DIR")
    if env:
        return Path(env)
    if os.environ.get("TOPDOWN_CONFIG_DIR"):
        return Path(os.environ["TOPDOWN_CONFIG_DIR"]) / "data"
    import platformdirs

    return Path(platformdirs.user_data_dir(APP, appauthor=False))


def default_projects_dir() -> Path:
    """The folder offered for new projects (the user can pick any other)."""
    if os.environ.get("TOPDOWN_DATA_DIR") or os.environ.get("TOPDOWN_CONFIG_DIR"):
        return data_dir() / "projects"
    import platformdirs

    return Path(platformdirs.user_documents_dir()) / "Topdown projects"


def settings() -> QSettings:
    path = config_dir()
    path.mkdir(parents=True, exist_ok=True)
    return QSettings(str(path / "topdown.ini"), QSettings.Format.IniFormat)


# ------------------------------------------------------------------ recent projects
def recent_projects() -> list[str]:
    """Most recent first; entries are absolute folder paths (they may no longer exist)."""
    value = settings().value("recent/projects", [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-item list
        value = [value]
    return [str(v) for v in (value or []) if v]


def _store_recent(paths: list[str]) -> None:
    s = settings()
    s.setValue("recent/projects", paths[:MAX_RECENT])
    s.sync()


def add_recent(path: str | os.PathLike) -> None:
    p = str(Path(path).resolve())
    _store_recent([p] + [r for r in recent_projects() if r != p])


def remove_recent(path: str | os.PathLike) -> None:
    p = str(path)
    _store_recent([r for r in recent_projects() if r != p])


def clear_missing_recent() -> int:
    """Forget recent projects whose folder is gone; returns how many were removed."""
    keep = [r for r in recent_projects() if Path(r).is_dir()]
    removed = len(recent_projects()) - len(keep)
    _store_recent(keep)
    return removed


# ------------------------------------------------------------------ window geometry
def save_geometry(window: QWidget, key: str = "main") -> None:
    s = settings()
    s.setValue(f"window/{key}/geometry", window.saveGeometry())
    save_state = getattr(window, "saveState", None)
    if save_state is not None:
        s.setValue(f"window/{key}/state", save_state())
    s.sync()


def restore_geometry(window: QWidget, key: str = "main") -> bool:
    """Restore a saved geometry; False when there is none (first launch)."""
    s = settings()
    geo = s.value(f"window/{key}/geometry")
    if not isinstance(geo, QByteArray | bytes) or not geo:
        return False
    ok = window.restoreGeometry(QByteArray(geo))
    state = s.value(f"window/{key}/state")
    restore_state = getattr(window, "restoreState", None)
    if restore_state is not None and isinstance(state, QByteArray | bytes) and state:
        restore_state(QByteArray(state))
    return bool(ok)


def get(key: str, default=None):
    return settings().value(key, default)


def put(key: str, value) -> None:
    s = settings()
    s.setValue(key, value)
    s.sync()

"""Before Qt starts: is there a display to show the window on, and can Qt's X11 plugin load?
Without this a missing display or a missing system library ends in a Qt core dump; here it is
one line saying what is missing. Imports no Qt (PySide6 is only located, not loaded)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

APT_LIST = Path(__file__).resolve().parent.parent / "packaging" / "apt-packages.txt"
HEADLESS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")


def xcb_plugin() -> Path | None:
    spec = importlib.util.find_spec("PySide6")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        p = Path(folder) / "Qt" / "plugins" / "platforms" / "libqxcb.so"
        if p.is_file():
            return p
    return None


def missing_libraries(plugin: Path | None) -> list[str]:
    """System libraries the xcb plugin needs and the loader cannot find (ldd's "not found")."""
    if plugin is None or shutil.which("ldd") is None:
        return []
    try:
        out = subprocess.run(
            ["ldd", str(plugin)], capture_output=True, text=True, timeout=10
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return sorted({ln.split("=>")[0].strip() for ln in out.splitlines() if "not found" in ln})


def install_hint() -> str:
    if APT_LIST.is_file():
        return f"sudo apt-get install $(cat {APT_LIST})"
    return "install the packages listed in packaging/apt-packages.txt"


def display_problem(env=None, platform: str | None = None, plugin: Path | None = None) -> str:
    """One line saying why the window cannot open here ("" when it can, or when not checked)."""
    env = os.environ if env is None else env
    if (platform or sys.platform) != "linux":
        return ""
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    if qpa in HEADLESS:
        return ""
    if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "Topdown cannot open its window: there is no display (neither DISPLAY nor "
            "WAYLAND_DISPLAY is set). Start it in a desktop session, over `ssh -X`, or under "
            "`xvfb-run topdown`; `topdown-cli` works without a display."
        )
    if qpa == "wayland" or not env.get("DISPLAY"):
        return ""  # the Wayland plugin has its own needs; Qt names them
    missing = missing_libraries(plugin if plugin is not None else xcb_plugin())
    if missing:
        return (
            f"Topdown cannot open its window: Qt's X11 plugin needs system libraries that are "
            f"missing ({', '.join(missing)}). On Debian or Ubuntu: {install_hint()}"
        )
    return ""

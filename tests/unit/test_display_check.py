"""Without a display, or without Qt's X11 libraries, `topdown` says so in one line (and exits 1)
instead of dying in a Qt core dump."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from gui.display_check import display_problem, missing_libraries

ROOT = Path(__file__).resolve().parents[2]


def test_no_display_is_one_clear_line_from_topdown():
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    r = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], env=env, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no display" in lines[0] and "xvfb-run" in lines[0]
    assert "core dumped" not in r.stderr and "Traceback" not in r.stderr


def test_missing_x11_libraries_are_named_with_the_apt_list(tmp_path):
    fake = tmp_path / "libqxcb.so"  # a plugin linked against a library this system lacks
    c = tmp_path / "x.c"
    c.write_text("int f(void){return 0;}\n")
    lib = tmp_path / "libtopdown-missing.so"
    if subprocess.run(["cc", "-shared", "-o", str(lib), str(c)]).returncode != 0:
        import pytest

        pytest.skip("no C compiler to build a plugin with a missing library")
    link = ["-L", str(tmp_path), "-Wl,--no-as-needed", "-ltopdown-missing"]
    subprocess.run(["cc", "-shared", "-o", str(fake), str(c), *link], check=True)
    lib.unlink()
    assert missing_libraries(fake) == ["libtopdown-missing.so"]
    line = display_problem({"DISPLAY": ":0"}, "linux", fake)
    assert "libtopdown-missing.so" in line and "apt-packages.txt" in line


def test_headless_platforms_and_a_working_plugin_are_not_refused():
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, "linux") == ""
    assert display_problem({}, "win32") == ""
    assert display_problem({"WAYLAND_DISPLAY": "wayland-0"}, "linux") == ""

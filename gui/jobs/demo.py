"""The demo job: generate a demo project (no download) on the bridge's thread."""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def make_demo(job, path: str, task: str) -> str:
    """Generate the demo project at `path` and return its folder.

    It is built in a side folder and renamed at the end, so an interrupted run never leaves a
    half-made demo that would later open as if complete.
    """
    from engine.project.demo import create_demo_project

    tmp = Path(path).with_name(Path(path).name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    create_demo_project(tmp, task=task).close()
    os.replace(tmp, path)
    return path

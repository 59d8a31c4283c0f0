"""Shared test setup: Qt offscreen unless a real display is asked for, settings in a temp dir,
no network, and torch kept to few threads so the suite fits on two cores."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")

import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Every test gets its own config/cache/torch-hub folders, so nothing touches the real ones."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("TOPDOWN_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("TOPDOWN_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(home / "torch"))
    yield

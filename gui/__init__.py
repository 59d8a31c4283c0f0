"""Topdown's Qt user interface. Engine work runs only through gui.bridge.EngineBridge.

PySide6 is pinned to 6.11.3: 6.12.0 on Python 3.11 returns None from void methods without taking
a reference, and a few thousand Qt calls abort the process ("none_dealloc")."""

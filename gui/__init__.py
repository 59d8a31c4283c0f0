"""Topdown's Qt user interface. Engine work runs only through gui.bridge.EngineBridge."""

import ctypes
import sys

# PySide6 6.12 on Python 3.11 returns None from every void method, and True from Signal.emit,
# without taking a reference (correct only where those are immortal, Python >= 3.12). A few
# thousand calls then free None/True and abort the process ("none_dealloc" / "bool_dealloc").
# Giving them a huge reference count makes them effectively immortal, as 3.12 does.
if sys.version_info < (3, 12):
    for _obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(_obj)).value += 1 << 40
    del _obj

"""The pinned Qt binding must survive many calls: PySide6 6.12.0 on Python 3.11 frees None after
a few thousand void calls and aborts the whole app. Run in a subprocess so an abort is a failure,
not a crashed test run."""

import subprocess
import sys

CODE = """
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
class Emitter(QObject):
    changed = Signal(int)
e, w = Emitter(), QWidget()
for i in range(20000):
    w.setToolTip("x")
    e.changed.emit(i)
print("survived")
"""


def test_qt_binding_survives_many_void_calls_and_emits():
    r = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        timeout=120,
        env={**__import__("os").environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert r.returncode == 0 and "survived" in r.stdout, r.stderr[-2000:]

"""The engine must never import Qt (design rule: the domain knows nothing of the GUI)."""

import ast
import subprocess
import sys
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
QT = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph", "qtpy")


def test_no_engine_module_imports_qt():
    offenders = []
    for py in ENGINE.rglob("*.py"):
        tree = ast.parse(py.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{py.name}: {n}" for n in names if n.split(".")[0] in QT]
    assert not offenders, offenders


def test_importing_every_engine_module_loads_no_qt():
    mods = [  # every module, those in the subpackages included
        ".".join(p.relative_to(ENGINE.parent).with_suffix("").parts)
        for p in sorted(ENGINE.rglob("*.py"))
        if p.stem != "__init__"
    ]
    assert "engine.training.train" in mods
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}: importlib.import_module(m)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {QT!r}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ENGINE.parent)

"""Import rules of the code base.

The layer rules are import-linter contracts in pyproject.toml (`[tool.importlinter]`): gui/ and
cli/ over engine/ and never each other, the engine's own layers (the project store below
training, among them), no Qt in the engine, no cycles among the subpackages and modules of
engine/, gui/ and cli/. import-linter counts every import, those inside functions and under
`if TYPE_CHECKING:` too. The tests here run it on the real tree, and on a small fake tree that
breaks each rule (so that a contract that cannot fail shows). The module-level cycle check
below, read from the source with `ast`, also sees cycles that cross packages (only imports
under `if TYPE_CHECKING:` are left out, as they never run).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CYCLE_FREE = ("engine", "gui", "cli")
PACKAGES = CYCLE_FREE


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    """Every module of engine/, gui/ and cli/ (packages by their __init__), by dotted name."""
    found = {}
    for pkg in PACKAGES:
        for py in sorted((ROOT / pkg).rglob("*.py")):
            found[_module_name(py)] = py
    return found


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    """import-linter with the contracts of `root`/pyproject.toml, on the packages in `root`."""
    code = (
        "import sys; from importlinter.cli import lint_imports; "
        "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))"
    )
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )


def test_the_layer_contracts_hold():
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 kept, 0 broken" in done.stdout, done.stdout


ENGINE_LAYERS = ("selftest", "check", "export", "predict", "interpret", "imports", "models")
ENGINE_LAYERS += ("atomic", "devices", "imaging", "event_stream", "errors", "events", "config")
ENGINE_LAYERS += ("control",)


def test_each_layer_contract_catches_what_it_forbids(tmp_path):
    """A fake tree under the same contracts, one offence each; an import under
    TYPE_CHECKING counts."""
    config = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(config[config.index("\n[tool.importlinter]\n") :])
    files = {
        "engine/__init__.py": "",
        "engine/project/__init__.py": "from engine.training import loop\n",  # store -> training
        "engine/training/__init__.py": "",
        "engine/training/loop.py": "from PySide6 import QtCore\n",  # Qt in the engine
        "engine/a.py": "import engine.b\n",
        "engine/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import engine.a\n",
        "gui/__init__.py": "",
        "gui/page.py": "import cli.common\n",  # an interface importing the other
        "cli/__init__.py": "",
        "cli/common.py": "import engine.a\n",
    }
    for layer in ENGINE_LAYERS:  # every layer of the engine-layers contract exists
        files.setdefault(f"engine/{layer}.py", "")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "PySide6").mkdir()
    (tmp_path / "PySide6" / "__init__.py").write_text("QtCore = None\n")
    done = lint_imports(tmp_path)
    assert done.returncode != 0
    assert "0 kept, 4 broken" in done.stdout, done.stdout
    for offence in ("gui.page -> cli.common", "engine.training.loop -> PySide6", "engine.project"):
        assert offence in done.stdout, (offence, done.stdout)
    assert "No cycles are allowed in engine" in done.stdout, done.stdout


def _type_checking_only(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imported_names(path: Path, name: str) -> Iterator[str]:
    """Dotted names this module imports; `from a import b` gives a.b (a module or not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom) or _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
            continue
        base = node.module or ""
        if node.level:  # relative import
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, *([base] if base else [])])
        yield base
        yield from (f"{base}.{a.name}" for a in node.names)


@cache
def import_graph() -> dict[str, set[str]]:
    """module -> project modules it imports (a dotted name resolves to its longest module
    prefix; importing a.b.c also runs the packages a and a.b)."""
    mods = project_modules()
    graph: dict[str, set[str]] = {}
    for name, path in mods.items():
        deps = set()
        for dotted in _imported_names(path, name):
            parts = dotted.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix in mods:
                    deps.add(prefix)
        deps.discard(name)
        graph[name] = deps
    return graph


def cycles(graph: dict[str, set[str]], within: tuple[str, ...]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), among modules in `within`."""

    def inside(m: str) -> bool:
        return any(m == p or m.startswith(p + ".") for p in within)

    nodes = sorted(m for m in graph if inside(m))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(d for d in graph[v] if inside(d)):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for v in nodes:
        if v not in index:
            visit(v)
    return found


def reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """Modules imported, directly or not, by `start` or any module below it."""
    todo = [m for m in graph if m == start or m.startswith(start + ".")]
    seen = set(todo)
    while todo:
        for d in graph[todo.pop()]:
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def _under(mods, package: str) -> list[str]:
    return sorted(m for m in mods if m == package or m.startswith(package + "."))


def test_the_checker_sees_function_local_imports_and_cycles():
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}, "b.q": {"b.r"}}
    graph["b.r"] = {"b.q"}
    assert cycles(graph, ("a",)) == [["a.x", "a.y", "a.z"]]
    assert reachable(graph, "a.w") == {"a.w", "a.x", "a.y", "a.z"}
    # the real graph includes imports made inside functions
    assert "engine.training.train" in import_graph()["cli.train"]


def test_no_import_cycles():
    found = cycles(import_graph(), CYCLE_FREE)
    assert not found, "import cycles: " + "; ".join(" <-> ".join(c) for c in found)

"""Import rules of the code base, read from the source with `ast` (nothing is imported).

Every import counts: module level and function-local (a cycle hidden inside a function is still
a cycle); only imports under `if TYPE_CHECKING:` are left out, as they never run.
- no import cycles among the modules of the packages in `CYCLE_FREE`;
- the engine never imports the GUI (nor Qt: see test_engine_is_qt_free.py);
- `engine.project` (the project store) depends on nothing in `engine.training`, directly or not.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CYCLE_FREE = ("engine", "gui")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    """Every module of engine/ and gui/ (packages by their __init__), by dotted name."""
    found = {}
    for pkg in ("engine", "gui"):
        for py in sorted((ROOT / pkg).rglob("*.py")):
            found[_module_name(py)] = py
    return found


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


def test_engine_never_imports_the_gui():
    graph = import_graph()
    bad = {m: sorted(_under(graph[m], "gui")) for m in _under(graph, "engine")}
    assert not {m: d for m, d in bad.items() if d}


def test_project_store_does_not_depend_on_training():
    bad = _under(reachable(import_graph(), "engine.project"), "engine.training")
    assert not bad, f"engine.project reaches {bad}"

"""The package's layers, read from its own import statements (every one, function-level and
``TYPE_CHECKING`` ones included): no import circle anywhere; each layer imports only the
layers below it; the pure core reaches no file, socket, process, clock or environment.

The layers, lowest first (docs/design.md, "Layout"): ``errors`` < ``core`` < ``formats`` <
``config`` < ``providers`` < ``sync`` < ``cli``. Inside ``providers/``, the local, Google and
Microsoft packages share only the modules at the top of ``providers/`` and never import each
other.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "inbox_followup"
ROOT = Path(__file__).resolve().parents[2] / "src" / PACKAGE

BELOW: dict[str, set[str]] = {
    "errors": set(),
    "core": {"errors"},
    "formats": {"errors", "core"},
    "config": {"errors", "core", "formats"},
    "providers": {"errors", "core", "formats", "config"},
    "sync": {"errors", "core", "formats", "config", "providers"},
    "cli": {"errors", "core", "formats", "config", "providers", "sync"},
    "__main__": {"cli"},
    "__init__": set(),
}
BACKENDS = {"local", "google", "microsoft"}
# What the pure core may not import: I/O of every kind, the clock, and the services' clients.
IO_MODULES = {
    "asyncio", "builtins", "fcntl", "glob", "http", "httplib2", "importlib", "io", "logging",
    "mmap", "msal", "multiprocessing", "os", "pathlib", "platformdirs", "random", "requests",
    "rich", "select", "selectors", "shutil", "signal", "socket", "sqlite3", "ssl",
    "subprocess", "sys", "tempfile", "threading", "time", "urllib", "webbrowser", "yaml",
    "google", "googleapiclient", "google_auth_httplib2", "google_auth_oauthlib", "email",
}
CLOCK_METHODS = {"now", "utcnow", "today", "monotonic", "perf_counter"}  # on any receiver


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def imports(name: str) -> Iterator[str]:
    """Every module ``name`` imports, resolved to absolute names."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            yield base
            for alias in node.names:  # `from pkg import module`
                if f"{base}.{alias.name}" in MODULES:
                    yield f"{base}.{alias.name}"


def internal_graph() -> dict[str, set[str]]:
    return {name: {m for m in imports(name) if m in MODULES and m != name} for name in MODULES}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), or a self-import."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def layer(name: str) -> str:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def backend(name: str) -> str | None:
    parts = name.split(".")
    return parts[2] if len(parts) > 3 and parts[1] == "providers" and parts[2] in BACKENDS else None


def test_the_graph_is_read() -> None:
    graph = internal_graph()
    assert f"{PACKAGE}.core.planner" in graph[f"{PACKAGE}.sync.engine"]
    assert f"{PACKAGE}.sync.engine" in graph[f"{PACKAGE}.sync.service"]  # `from pkg import module`


def test_no_import_circle_anywhere() -> None:
    assert circles(internal_graph()) == []


def test_circles_are_found() -> None:
    """The check itself can fail: a made-up graph with a loop through three modules."""
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_layer_imports_only_the_layers_below_it() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in internal_graph().items()
        for target in targets
        if layer(target) not in {layer(name), "__init__"} and layer(target) not in BELOW[layer(name)]
    ]
    assert wrong == []


def test_no_backend_imports_another() -> None:
    wrong = [
        f"{name} imports {target}"
        for name, targets in internal_graph().items()
        for target in targets
        if (backend(name) and backend(target) and backend(name) != backend(target))
        or (backend(name) and layer(target) == "providers" and target.count(".") == 1)
    ]
    assert wrong == []


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer(n) == "core"))
def test_the_core_imports_no_io(name: str) -> None:
    outside = {m.split(".")[0] for m in imports(name)} - {PACKAGE}
    assert sorted(outside & IO_MODULES) == []


@pytest.mark.parametrize("name", sorted(n for n in MODULES if layer(n) == "core"))
def test_the_core_never_reads_the_clock(name: str) -> None:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    calls = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert sorted(calls & CLOCK_METHODS) == []

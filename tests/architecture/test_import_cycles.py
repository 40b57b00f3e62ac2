"""No import cycle among a package's modules: each service and the shared kernel.

import-linter's layers and independence contracts catch imports across the boundaries they name, not a cycle
inside one layer or between modules no contract names (the old `handler` ↔ `api` pair reached each other
through a module `__getattr__`). This builds each package's module graph from its source with `ast`, every
import counted wherever it is written (module level, inside a function, under `if TYPE_CHECKING:`), and
fails naming the cycle.

An import counts as an edge to the most specific module of the package it names: `from a.b import c` is
`a.b.c` when that is a module, else `a.b`. The parent packages Python also runs (`a`, `a.b`) are not edges:
a package `__init__` re-exporting its submodules is not a cycle.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGES = ["initializer", "finalizer", "ledger", "wallet", "notifier", "payments_shared"]

Graph = dict[str, set[str]]


def _modules(package_dir: Path, package: str) -> dict[str, Path]:
    """Every module of the package under package_dir, by dotted name."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> Iterator[str]:
    """The dotted names an import statement names: `from m import n` names m.n (a submodule, or a name
    defined in m: the most specific module resolves it), `from m import *` names m."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    yield from (base if alias.name == "*" else f"{base}.{alias.name}" for alias in node.names)


def _most_specific(name: str, modules: dict[str, Path]) -> str | None:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        if (candidate := ".".join(parts[:end])) in modules:
            return candidate
    return None


def import_graph(package_dir: Path, package: str) -> Graph:
    """module → the package's modules it imports (itself excluded)."""
    modules = _modules(package_dir, package)
    graph: Graph = {}
    for module, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for name in _imported(node, module, path.name == "__init__.py"):
                    if (target := _most_specific(name, modules)) is not None:
                        targets.add(target)
        targets.discard(module)
        graph[module] = targets
    return graph


def find_cycle(graph: Graph) -> list[str] | None:
    """One cycle of the graph as [m1, m2, …, m1], or None when it is acyclic (depth-first, back edge)."""
    done: set[str] = set()
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        on_path = {start}
        stack = [iter(sorted(graph[start]))]
        while stack:
            step = next(stack[-1], None)
            if step is None:
                stack.pop()
                done.add(path[-1])
                on_path.discard(path.pop())
            elif step in on_path:
                return [*path[path.index(step) :], step]
            elif step not in done:
                path.append(step)
                on_path.add(step)
                stack.append(iter(sorted(graph.get(step, ()))))
    return None


def assert_acyclic(package_dir: Path, package: str) -> None:
    cycle = find_cycle(import_graph(package_dir, package))
    assert cycle is None, f"{package} has an import cycle: {' -> '.join(cycle or [])}"


def _package_dir(package: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


@pytest.mark.parametrize("package", PACKAGES)
def test_the_package_has_no_import_cycle(package: str) -> None:
    package_dir = _package_dir(package)
    assert package_dir is not None, f"{package} is not importable here (a missing dependency in the BUILD?)"
    graph = import_graph(package_dir, package)
    assert len(graph) > 3  # the package's modules were found, not an empty graph that passes by default
    assert_acyclic(package_dir, package)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    return root


def test_a_cycle_through_a_lazy_import_is_found_and_named(tmp_path: Path) -> None:
    # The shape the old entry points had: api imports handler at the top, handler reaches api back through
    # a module __getattr__; plus a relative import and a `from package import module`.
    package_dir = _write(
        tmp_path / "svc",
        {
            "__init__.py": "",
            "domain/__init__.py": "",
            "domain/order.py": "from . import money\n",
            "domain/money.py": "",
            "handler.py": (
                "from svc.domain.order import *\n\n"
                "def __getattr__(name):\n    from svc import api\n    return getattr(api, name)\n"
            ),
            "api.py": "from .handler import logger\n",
        },
    )
    graph = import_graph(package_dir, "svc")
    assert graph["svc.domain.order"] == {"svc.domain.money"}
    assert graph["svc.handler"] == {"svc.domain.order", "svc.api"}
    assert find_cycle(graph) == ["svc.api", "svc.handler", "svc.api"]
    with pytest.raises(AssertionError, match=r"svc has an import cycle: svc\.api -> svc\.handler -> svc\.api"):
        assert_acyclic(package_dir, "svc")

    (package_dir / "handler.py").write_text("from svc.domain.order import *\n")
    assert_acyclic(package_dir, "svc")


def test_a_longer_cycle_is_named_in_import_order(tmp_path: Path) -> None:
    package_dir = _write(
        tmp_path / "svc",
        {
            "__init__.py": "",
            "a.py": "import svc.b\n",
            "b.py": "from svc.c import thing\n",
            "c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from svc import a\nthing = 1\n",
            "d.py": "import svc.a\n",
        },
    )
    assert find_cycle(import_graph(package_dir, "svc")) == ["svc.a", "svc.b", "svc.c", "svc.a"]
    # A package __init__ re-exporting a submodule that imports a sibling is no cycle.
    _write(package_dir, {"c.py": "thing = 1\n", "__init__.py": "from svc.a import *\n"})
    assert find_cycle(import_graph(package_dir, "svc")) is None

"""The package's import graph: no runtime cycle, and the layering design.md promises."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "argil_async"


def _module_name(path: Path) -> str:
    """The dotted name of a file of the package (``__init__`` names its package)."""
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    """``if TYPE_CHECKING:`` or ``if typing.TYPE_CHECKING:``."""
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(nodes: Iterable[ast.AST]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import that runs, at module level or inside a function; not the type-only ones."""
    for node in nodes:
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from _runtime_imports(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        yield from _runtime_imports(ast.iter_child_nodes(node))


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The package modules an import statement loads (a submodule when it names one)."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names if alias.name in MODULES)
        return
    is_package = MODULES[module].name == "__init__.py"
    base_parts = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base_parts = base_parts[: len(base_parts) - (node.level - 1)]
        base = ".".join([*base_parts, node.module] if node.module else base_parts)
    else:
        base = node.module or ""
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:
            yield f"{base}.{alias.name}"
        elif base in MODULES:
            yield base


def _graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports at run time."""
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        edges = {t for node in _runtime_imports([tree]) for t in _targets(module, node)}
        edges.discard(module)
        graph[module] = edges
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


# Parsed at collection, before any test runs: CPython 3.11.7's ast.parse can raise a SystemError
# ("AST constructor recursion depth mismatch") after other tests have hit deep recursion.
GRAPH = _graph()


def test_no_runtime_import_cycle():
    """No chain of run-time imports (function-level ones included) leads a module back to itself."""
    cycle = _cycle(GRAPH)
    assert cycle is None, "runtime import cycle: " + " -> ".join(cycle or [])


def test_the_cycle_finder_finds_cycles():
    """The checker itself reports a cycle when there is one (so the test above means something)."""
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_sdk_core_does_not_import_its_applications():
    """The client's modules never import the CLI, the batch runner or the simulator at run time."""
    graph = GRAPH
    applications = ("argil_async._cli", "argil_async.batch", "argil_async.testing")
    core = [m for m in graph if m.startswith(("argil_async._resources", "argil_async._client"))]
    offenders = {
        module: sorted(t for t in graph[module] if t.startswith(applications)) for module in core
    }
    assert not {m: t for m, t in offenders.items() if t}


def _third_party_users(package: str) -> set[str]:
    """The package's modules that import ``package`` (or a submodule of it) at run time."""
    users = set()
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _runtime_imports([tree]):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if not node.level
                else []
            )
            if any(name == package or name.startswith(package + ".") for name in names):
                users.add(module)
    return users


AIOHTTP_USERS = _third_party_users("aiohttp")  # parsed at collection too (see GRAPH)
BACKOFF_USERS = _third_party_users("backoff")
REDIS_USERS = _third_party_users("redis")


def test_aiohttp_only_in_the_transport_and_the_web_apps():
    """The SDK's modules reach aiohttp through _transport.py only (the receiver and the
    simulator are aiohttp apps); _seam, _bodies and _status hold no aiohttp import."""
    apps = ("argil_async.events._receiver", "argil_async.events._web", "argil_async.testing")
    outside = {m for m in AIOHTTP_USERS if m != "argil_async._transport" and not m.startswith(apps)}
    assert outside == set()
    assert "argil_async._transport" in AIOHTTP_USERS


def test_backoff_only_in_the_retry_module():
    """backoff is imported by _retry.py alone."""
    assert {"argil_async._retry"} == BACKOFF_USERS


def test_redis_only_in_the_redis_helper():
    """redis (an optional extra) is imported at run time by _redis.py alone: the limiter and
    the batch coordinator reach it through that one helper (connect, timeouts, retries)."""
    assert {"argil_async._redis"} == REDIS_USERS

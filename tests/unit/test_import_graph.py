"""The package's import graph: no runtime cycle, and the layering ARCHITECTURE.md describes."""

from __future__ import annotations

import ast
import subprocess
import sys
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


APPLICATIONS = (
    "argil_async._cli",
    "argil_async.batch",
    "argil_async.events",
    "argil_async.testing",
)
ENTRY_POINTS = {"argil_async.__main__"}  # ``python -m argil_async`` runs the CLI


def _is_application(module: str) -> bool:
    return any(module == app or module.startswith(app + ".") for app in APPLICATIONS)


def test_sdk_core_does_not_import_its_applications():
    """No core module imports the CLI, batch, the webhook package or the simulator at run time."""
    core = [m for m in GRAPH if not _is_application(m) and m not in ENTRY_POINTS]
    assert "argil_async._client" in core
    assert "argil_async._sync.client" in core
    offenders = {module: sorted(t for t in GRAPH[module] if _is_application(t)) for module in core}
    assert {m: t for m, t in offenders.items() if t} == {}


def test_every_application_package_is_checked():
    """Each subpackage is either core or in APPLICATIONS, so a new application is not missed."""
    packages = {m for m, p in MODULES.items() if p.name == "__init__.py" and m.count(".") == 1}
    core_packages = {"argil_async._resources", "argil_async._sync", "argil_async.models"}
    core_packages |= {m for m in packages if m == "argil_async.limits"}
    assert packages - core_packages == set(APPLICATIONS)


def test_applications_use_only_the_paid_seam():
    """Applications import from the core's ``_paid`` only the names of its documented SEAM."""
    from argil_async._paid import SEAM

    used: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        if not _is_application(module):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and "argil_async._paid" in _targets(module, node):
                used.setdefault(module, set()).update(alias.name for alias in node.names)
    assert used, "batch imports the seam (else this test checks nothing)"
    assert {m: names - SEAM for m, names in used.items() if names - SEAM} == {}


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


def test_importing_the_sdk_loads_no_application():
    """A plain ``import argil_async`` (and making a client) loads no application package."""
    code = (
        "import sys, argil_async\n"
        "argil_async.AsyncArgil(api_key='k'); argil_async.Argil(api_key='k')\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(done.stdout.split())
    assert "argil_async._client" in loaded
    assert {m for m in loaded if _is_application(m)} == set()


MCP_USERS = _third_party_users("mcp")


def test_mcp_only_in_the_mcp_server_application():
    """The optional `mcp` package is imported by `argil mcp`'s server module alone, and that
    module only by the command (on `argil mcp`): the SDK and the rest of the CLI never load it."""
    assert set(MCP_USERS) == {"argil_async._cli._mcp_server"}
    importers = {m for m, targets in GRAPH.items() if "argil_async._cli._mcp_server" in targets}
    assert importers == {"argil_async._cli._mcp"}


def test_the_two_batch_stores_are_separate_units():
    """batch/_sqlite (one machine's journal) and batch/_redis (a fleet's) never import each
    other: each reads as one unit, and both meet only in _records.JobStore and the runner."""
    sqlite = "argil_async.batch._sqlite"
    redis_store = "argil_async.batch._redis"
    for module, targets in GRAPH.items():
        if module.startswith(sqlite):
            assert not {t for t in targets if t.startswith(redis_store)}, module
        if module.startswith(redis_store):
            assert not {t for t in targets if t.startswith(sqlite)}, module
    assert any(m.startswith(f"{sqlite}.") for m in GRAPH)
    assert any(m.startswith(f"{redis_store}.") for m in GRAPH)


def _printed(*lines: str) -> list[str]:
    """What a fresh interpreter prints running ``lines``, after a shared prelude (the SDK
    imported; ``connector`` defined by ``expect_connector()``, importing aiohttp)."""
    prelude = (
        "import sys, typing, argil_async",
        "from collections.abc import Callable, Sequence",
        "def expect_connector():",
        "    import aiohttp",
        "    return aiohttp.BaseConnector | Callable[[], aiohttp.BaseConnector] | None",
    )
    code = "\n".join((*prelude, *lines)) + "\n"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.split()


def test_importing_the_sdk_loads_no_aiohttp_until_a_client_is_made():
    """``import argil_async`` leaves aiohttp unloaded (its import is a third of the SDK's
    memory); the first client loads it, and the constructor's annotations then resolve."""
    assert _printed(
        "print('aiohttp' in sys.modules)",
        "argil_async.Argil(api_key='k')",
        "print('aiohttp' in sys.modules)",
        "hints = typing.get_type_hints(argil_async.AsyncArgil.__init__)",
        "print(hints['connector'] == expect_connector())",
        "print(hints['trace_configs'] == Sequence[sys.modules['aiohttp'].TraceConfig])",
    ) == ["False", "True", "True", "True"]


def test_constructor_annotations_resolve_before_any_client_is_made():
    """``typing.get_type_hints`` on both constructors works right after ``import argil_async``
    (resolving their aiohttp annotations imports aiohttp then), with aiohttp's own classes."""
    assert _printed(
        "hints = typing.get_type_hints(argil_async.AsyncArgil.__init__)",
        "sync_hints = typing.get_type_hints(argil_async.Argil.__init__)",
        "print(hints['connector'] == expect_connector() == sync_hints['connector'])",
        "print(hints['trace_configs'] == Sequence[sys.modules['aiohttp'].TraceConfig])",
    ) == ["True", "True"]

"""The CLI is a user of argil_async.batch like any other: public names only, no private modules."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

CLI = Path(__file__).resolve().parents[2] / "argil_async" / "_cli"


def _private_batch_imports(source: str, module: str) -> Iterator[str]:
    """``module.path: what`` for each import of a private batch module or name in ``source``."""
    package = module.split(".")[:-1]  # the package a relative import starts from
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, node.module] if node.module else base)
            names = [f"{target}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[:2] == ["argil_async", "batch"] and any(p.startswith("_") for p in parts[2:]):
                yield f"{module}:{node.lineno}: {name}"


# Parsed at collection (CPython 3.11's ast.parse can fail after other tests' deep recursion).
SOURCES = {f"argil_async._cli.{p.stem}": p.read_text(encoding="utf-8") for p in CLI.glob("*.py")}


def test_the_cli_imports_only_public_batch_names():
    """No module of argil_async/_cli imports argil_async.batch._anything (nor a _name from it)."""
    assert len(SOURCES) >= 5
    offenders = [
        hit for module, text in SOURCES.items() for hit in _private_batch_imports(text, module)
    ]
    assert not offenders, "the CLI reaches into private batch modules:\n" + "\n".join(offenders)


def test_the_checker_sees_every_form_of_private_import():
    """Relative, absolute, function-level and private-name imports are all reported."""
    source = (
        "from ..batch._journal import Journal\n"
        "import argil_async.batch._layout\n"
        "def f():\n    from argil_async.batch import _runner\n"
        "from ..batch import read_status\n"
        "from .. import batch\n"
        "from ._session import api_session\n"
    )
    found = sorted(_private_batch_imports(source, "argil_async._cli._x"))
    assert found == [
        "argil_async._cli._x:1: argil_async.batch._journal.Journal",
        "argil_async._cli._x:2: argil_async.batch._layout",
        "argil_async._cli._x:4: argil_async.batch._runner",
    ]

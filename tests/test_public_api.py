"""The public surface: sorted, resolvable __all__ lists, and the contract's names present."""

from __future__ import annotations

import importlib
import inspect

import pytest

import argil_async
from argil_async import errors

PUBLIC_MODULES = [
    "argil_async",
    "argil_async.models",
    "argil_async.errors",
    "argil_async.events",
    "argil_async.testing",
    "argil_async.batch",
    "argil_async.limits",
]


def _isort_key(name: str) -> tuple[int, str]:
    """Constants, then classes, then functions (ruff's RUF022 order)."""
    kind = 0 if name.isupper() else 1 if name[:1].isupper() else 2
    return kind, name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolvable(name: str):
    """Each public module's __all__ is sorted (constants, classes, functions) and resolvable."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert exported == sorted(exported, key=_isort_key)
    missing = [n for n in exported if not hasattr(module, n)]
    assert not missing


def test_every_error_is_exported_at_top_level():
    """Every exception class of argil_async.errors is importable from argil_async."""
    classes = {
        n for n, obj in vars(errors).items() if inspect.isclass(obj) and issubclass(obj, Exception)
    }
    assert classes <= set(argil_async.__all__)


def test_contract_names_exist():
    """The names design.md promises are importable."""
    for name in (
        "AsyncArgil",
        "Argil",
        "AsyncPaginator",
        "Paginator",
        "Page",
        "Moment",
        "Subtitles",
        "AutoBrolls",
        "BackgroundMusic",
        "Zoom",
        "Broll",
    ):
        assert name in argil_async.__all__
    from argil_async.events import WebhookReceiver, parse_event
    from argil_async.testing import ArgilSimulator

    assert callable(parse_event)
    assert WebhookReceiver
    assert ArgilSimulator


def test_errors_subclass_the_builtins_callers_catch():
    """InvalidRequestError is a ValueError; the timeouts are TimeoutErrors."""
    assert issubclass(errors.InvalidRequestError, ValueError)
    assert issubclass(errors.APITimeoutError, TimeoutError)
    assert issubclass(errors.WaitTimeoutError, TimeoutError)
    assert issubclass(errors.RateLimitError, errors.APIStatusError)

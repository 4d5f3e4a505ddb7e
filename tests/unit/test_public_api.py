"""The public surface: honest __all__ lists, public module names, the contract's names."""

from __future__ import annotations

import importlib
import inspect
import pickle
import types
import typing
from types import ModuleType

import msgspec
import pytest

import argil_async
from argil_async import Video, errors

PUBLIC_MODULES = [
    "argil_async",
    "argil_async.models",
    "argil_async.errors",
    "argil_async.events",
    "argil_async.testing",
    "argil_async.batch",
    "argil_async.limits",
    "argil_async.testing.pytest_plugin",
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


def _public_names(module: ModuleType) -> set[str]:
    """Names a user would take as public: no underscore, not a module, defined by the package.

    Defined here, re-exported from a private module or (for a package) from its own public
    submodules, or a constant or type alias; names imported from elsewhere are not counted.
    """
    name = module.__name__
    public = set()
    for attr, value in vars(module).items():
        if attr.startswith("_") or inspect.ismodule(value) or attr == "TYPE_CHECKING":
            continue
        owner = getattr(value, "__module__", None) if not isinstance(value, str) else None
        private = ("argil_async._", "_argil_pytest_plugin")  # the SDK's own private modules
        ours = owner is None or owner == name or owner.startswith((f"{name}.", *private))
        if ours or typing.get_origin(value) is not None:
            public.add(attr)
    return public


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_equals_the_public_names(name: str):
    """__all__ lists every public-looking name of the module, and nothing else (no leaks)."""
    module = importlib.import_module(name)
    for attr in module.__all__:  # load lazy attributes first
        getattr(module, attr)
    assert set(module.__all__) - {"__version__"} == _public_names(module)


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_public_classes_report_their_public_module(name: str):
    """repr(), tracebacks and pickles name the public module, never a private one."""
    module = importlib.import_module(name)
    for attr in module.__all__:
        value = getattr(module, attr)
        # (on 3.10, inspect.isclass() is also true of aliases such as Callable[[...], None])
        if inspect.isclass(value) and not isinstance(value, types.GenericAlias):
            assert not value.__module__.startswith("argil_async._"), (attr, value.__module__)
            assert getattr(importlib.import_module(value.__module__), attr) is value
            assert typing.get_type_hints(value) is not None  # annotations still resolve


def test_models_still_decode_and_pickle_under_their_public_module():
    """Moving __module__ keeps msgspec decoding (string annotations) and pickling working."""
    video = msgspec.json.decode(b'{"id": "v1", "moments": [{"transcript": "hi"}]}', type=Video)
    assert repr(video).startswith("Video(id='v1'")
    assert pickle.loads(pickle.dumps(video)) == video
    assert type(video).__module__ == "argil_async.models"


def test_renamed_simulator_records_keep_their_old_names_with_a_warning():
    """argil_async.testing.Video (v0.1) is SimVideo now; the old name still works, warning."""
    import argil_async.testing as testing

    with pytest.warns(DeprecationWarning, match="SimVideo"):
        assert testing.Video is testing.SimVideo  # type: ignore[attr-defined]
    assert testing.SimVideo is not argil_async.Video
    with pytest.raises(AttributeError):
        testing.Nothing  # type: ignore[attr-defined]  # noqa: B018


def test_every_error_is_exported_at_top_level():
    """Every exception class of argil_async.errors is importable from argil_async."""
    classes = {
        n for n, obj in vars(errors).items() if inspect.isclass(obj) and issubclass(obj, Exception)
    }
    assert classes <= set(argil_async.__all__)


def test_contract_names_exist():
    """The names the README and docs/reference promise are importable."""
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

"""Property: whatever the arguments, a public method either raises InvalidRequestError naming
one of them, or sends only requests that validate against the OpenAPI document.

Run on the async client and on the sync facade, at the transport seam (no sockets). The run is
bounded by a settings profile: ``HYPOTHESIS_PROFILE=ci`` (the default, 40 cases per method
and client) or ``deep`` (1,000) for a longer hunt; the counts are printed at the end of the
session (``fuzzing:`` line) and must show 0 untyped errors and 0 malformed requests.
"""

from __future__ import annotations

import asyncio
import os
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fuzz_cases import CASES, CONSTRUCTOR, OPTIONS, build
from fuzz_seam import SeamTransport, describe, judge
from hypothesis import HealthCheck, given, settings

from argil_async import Argil, AsyncArgil, AsyncPaginator, Paginator, RetryPolicy

settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("deep", parent=settings.get_profile("ci"), max_examples=1000)
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
JOINED = {"image_url/image", "callback_url/events"}  # errors about a pair of arguments


def _client_kwargs(transport: SeamTransport) -> dict[str, Any]:
    return {
        "api_key": "fuzz-key-123456",
        "base_url": "https://api.example.test/v1",
        "transport": transport,
        "retry_policy": RetryPolicy(max_retries=0, wait_scale=0),
    }


def _split(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The method's own keywords (pieces built now), and the paging ones (``_page``...)."""
    built = build({k: v for k, v in kwargs.items() if not k.startswith("_")})
    built.update(kwargs.get("_settings", {}))
    built.update(kwargs.get("_options", {}))
    return built, {k: v for k, v in kwargs.items() if k in ("_page", "_limit")}


async def _call_async(client: AsyncArgil, method: str, kwargs: dict[str, Any]) -> Any:
    resource, name = method.split(".")
    own, paging = _split(kwargs)
    result = getattr(getattr(client, resource), name)(**own)
    if isinstance(result, AsyncPaginator):
        if "_page" in paging:
            return await result.fetch_page(paging["_page"])
        return await result.to_list(limit=paging.get("_limit"))
    return await result


def _call_sync(client: Argil, method: str, kwargs: dict[str, Any]) -> Any:
    resource, name = method.split(".")
    own, paging = _split(kwargs)
    result = getattr(getattr(client, resource), name)(**own)
    if isinstance(result, Paginator):
        if "_page" in paging:
            return result.fetch_page(paging["_page"])
        return result.to_list(limit=paging.get("_limit"))
    return result


def _names(kwargs: dict[str, Any]) -> set[str]:
    keys = {k for k in kwargs if not k.startswith("_")} | set(kwargs.get("_settings", {}))
    keys |= set(kwargs.get("_options", {}))
    keys |= {"level", "volume"}  # a Zoom or BackgroundMusic refusing its own argument
    keys |= {part for joined in JOINED for part in joined.split("/")}
    return keys | {"number", "limit"} if {"_page", "_limit"} & set(kwargs) else keys


def _judge_call(
    label: str, kwargs: dict[str, Any], transport: SeamTransport, call: Callable[[], object]
) -> None:
    """Make one fuzzed call; its outcome must be valid requests or an error naming an argument."""
    transport.requests.clear()
    error = None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            call()
    except Exception as exc:
        error = exc
    problem = judge(label, error, list(transport.requests), _names(kwargs))
    assert problem is None, f"{label}({describe(kwargs)}): {problem}"


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for the async properties of this module."""
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


@pytest.mark.parametrize("method", sorted(CASES))
def test_async_method_sends_valid_requests_or_names_the_argument(
    method: str, loop: asyncio.AbstractEventLoop
):
    """AsyncArgil: every outcome is a valid request or an InvalidRequestError naming an arg."""
    transport = SeamTransport()
    client = AsyncArgil(**_client_kwargs(transport))

    @PROFILE
    @given(CASES[method])
    def case(kwargs: dict[str, Any]) -> None:
        run = loop.run_until_complete
        _judge_call(method, kwargs, transport, lambda: run(_call_async(client, method, kwargs)))

    case()
    assert client._asset_limiter.in_use == 0  # no upload slot leaked by a refused call


@pytest.mark.parametrize("method", sorted(CASES))
def test_sync_method_behaves_like_the_async_one(method: str):
    """Argil (the sync facade): the same property, through its own event-loop thread."""
    transport = SeamTransport()
    with Argil(**_client_kwargs(transport)) as client:

        @PROFILE
        @given(CASES[method])
        def case(kwargs: dict[str, Any]) -> None:
            _judge_call(
                f"sync {method}", kwargs, transport, lambda: _call_sync(client, method, kwargs)
            )

        case()


@pytest.mark.parametrize("cls", [AsyncArgil, Argil])
def test_constructors_accept_or_name_the_argument(cls: type[Any]):
    """Both clients either build or raise InvalidRequestError naming a bad argument."""

    @PROFILE
    @given(CONSTRUCTOR)
    def case(kwargs: dict[str, Any]) -> None:
        error = None
        try:
            client = cls(**kwargs)
        except Exception as exc:
            error = exc
        else:
            client.close() if isinstance(client, Argil) else None
        names = set(kwargs) | {"api_key"}  # no key given and none in the environment
        problem = judge(cls.__name__, error, [], names)
        assert problem is None, f"{cls.__name__}({describe(kwargs)}): {problem}"

    case()


@pytest.mark.parametrize("cls", [AsyncArgil, Argil])
def test_call_options_are_checked_like_arguments(cls: type[Any], loop: asyncio.AbstractEventLoop):
    """with_options on both clients: a bad option names itself, good ones send valid requests."""
    transport = SeamTransport()
    client = cls(**_client_kwargs(transport))

    def listed(options: dict[str, Any]) -> object:
        copy = client.with_options(**options)
        if isinstance(copy, Argil):
            return copy.avatars.list()
        return loop.run_until_complete(copy.avatars.list())

    @PROFILE
    @given(OPTIONS)
    def case(options: dict[str, Any]) -> None:
        _judge_call(f"{cls.__name__}.with_options", options, transport, lambda: listed(options))

    case()
    if isinstance(client, Argil):
        client.close()

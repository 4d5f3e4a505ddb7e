"""A pytest plugin for applications that use the SDK: a simulator and clients bound to it.

Installed with the package (entry point ``pytest11``), so the fixtures need no import::

    def test_welcome_video(argil_client):                 # sync: an Argil
        avatar = argil_client.avatars.list()[0]
        video = argil_client.videos.create(name="hi", moments=[...])

    async def test_async(argil_async_client, argil_simulator):   # any async test runner
        await argil_async_client.videos.list().to_list()
        assert argil_simulator.stats.by_route["GET /videos"] == 1

``@pytest.mark.argil_simulator(latency=0.1, rate_limit_every=3)`` configures the simulator
(any :class:`~argil_async.testing.SimulatorConfig` field). The simulator runs on its own
thread, so the same fixtures serve sync tests and async tests of any event-loop plugin; the
clients retry without real waits. Disable the plugin with ``-p no:argil``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .._client import AsyncArgil
from .._retry import RetryPolicy
from .._sync.client import Argil
from ._simulator import ArgilSimulator

__all__ = ["argil_async_client", "argil_client", "argil_simulator", "pytest_configure"]

_FAST_RETRIES = RetryPolicy(wait_scale=0)


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``argil_simulator`` marker."""
    config.addinivalue_line(
        "markers", "argil_simulator(**config): SimulatorConfig overrides for argil fixtures"
    )


@pytest.fixture
def argil_simulator(request: pytest.FixtureRequest) -> Iterator[ArgilSimulator]:
    """A fresh Argil simulator on a loopback port, configured by the argil_simulator marker."""
    marker = request.node.get_closest_marker("argil_simulator")
    overrides = dict(marker.kwargs) if marker is not None else {}
    with ArgilSimulator.in_thread(**overrides) as simulator:
        yield simulator


@pytest.fixture
def argil_client(argil_simulator: ArgilSimulator) -> Iterator[Argil]:
    """A sync ``Argil`` talking to ``argil_simulator``, closed after the test."""
    with Argil(
        api_key=argil_simulator.api_key,
        base_url=argil_simulator.base_url,
        retry_policy=_FAST_RETRIES,
        trust_env=False,  # loopback traffic never goes to a developer's HTTP_PROXY
    ) as client:
        yield client


@pytest.fixture
def argil_async_client(argil_simulator: ArgilSimulator) -> AsyncArgil:
    """An ``AsyncArgil`` talking to ``argil_simulator``.

    Its HTTP session opens on the test's event loop and closes when that loop shuts down,
    so this fixture needs no async runner of its own.
    """
    return AsyncArgil(
        api_key=argil_simulator.api_key,
        base_url=argil_simulator.base_url,
        retry_policy=_FAST_RETRIES,
        trust_env=False,
    )

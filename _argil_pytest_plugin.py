"""The ``argil`` pytest plugin as pytest loads it (entry point ``pytest11``): fixtures for a
simulator and clients bound to it. Documented in ``argil_async.testing.pytest_plugin``.

This module lives outside the ``argil_async`` package, and imports the SDK inside the
fixtures only, so that merely having the SDK installed adds nothing to pytest's start-up
(importing ``argil_async.testing.pytest_plugin`` would import the whole SDK first).

PYTEST_DONT_REWRITE: it holds no assert, so pytest need not rewrite it at every start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from argil_async import Argil, AsyncArgil
    from argil_async.testing import ArgilSimulator

__all__ = ["argil_async_client", "argil_client", "argil_simulator", "pytest_configure"]


def pytest_configure(config: pytest.Config) -> None:
    """Declare the ``argil_simulator`` marker."""
    config.addinivalue_line(
        "markers", "argil_simulator(**config): SimulatorConfig overrides for argil fixtures"
    )


@pytest.fixture
def argil_simulator(request: pytest.FixtureRequest) -> Iterator[ArgilSimulator]:
    """A fresh Argil simulator on a loopback port, configured by the argil_simulator marker."""
    from argil_async.testing import ArgilSimulator

    marker = request.node.get_closest_marker("argil_simulator")
    overrides = dict(marker.kwargs) if marker is not None else {}
    with ArgilSimulator.in_thread(**overrides) as simulator:
        yield simulator


@pytest.fixture
def argil_client(argil_simulator: ArgilSimulator) -> Iterator[Argil]:
    """A sync ``Argil`` talking to ``argil_simulator``, closed after the test."""
    from argil_async import Argil, RetryPolicy

    with Argil(
        api_key=argil_simulator.api_key,
        base_url=argil_simulator.base_url,
        retry_policy=RetryPolicy(wait_scale=0),
        trust_env=False,  # loopback traffic never goes to a developer's HTTP_PROXY
    ) as client:
        yield client


@pytest.fixture
def argil_async_client(argil_simulator: ArgilSimulator) -> AsyncArgil:
    """An ``AsyncArgil`` talking to ``argil_simulator``.

    Its HTTP session opens on the test's event loop and closes when that loop shuts down,
    so this fixture needs no async runner of its own.
    """
    from argil_async import AsyncArgil, RetryPolicy

    return AsyncArgil(
        api_key=argil_simulator.api_key,
        base_url=argil_simulator.base_url,
        retry_policy=RetryPolicy(wait_scale=0),
        trust_env=False,
    )

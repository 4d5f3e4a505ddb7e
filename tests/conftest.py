"""Shared fixtures: simulators whose traffic is checked against the OpenAPI document.

`client` is an AsyncArgil wired to `sim`: every request it makes, and every answer, is
validated against the OpenAPI document for free.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from support.client_fixtures import client_for
from support.openapi_check import OpenAPIChecker
from support.redis_fixtures import (  # noqa: F401  (a real Redis server)
    redis_name,
    redis_process,
    redis_url,
)

from argil_async import AsyncArgil
from argil_async.testing import ArgilSimulator

SimFactory = Callable[..., Awaitable[ArgilSimulator]]


@pytest.fixture
def spec_checker() -> OpenAPIChecker:
    """The OpenAPI checker shared by every simulator of one test."""
    return OpenAPIChecker()


@pytest.fixture
async def sim_factory(spec_checker: OpenAPIChecker) -> AsyncIterator[SimFactory]:
    """Start simulators with custom config; all are closed and their traffic judged at teardown.

    `await sim_factory(latency=0.1)`; pass `check_spec=False` for a test that sends tolerated
    off-spec requests on purpose (e.g. `Authorization: ApiKey`, `Centered`).
    """
    started: list[ArgilSimulator] = []

    async def make(*, check_spec: bool = True, **overrides: Any) -> ArgilSimulator:
        sim = ArgilSimulator(**overrides)
        if check_spec:
            sim.on_exchange = spec_checker
        await sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in reversed(started):
        await sim.close()
    if spec_checker.failures:
        pytest.fail("simulator traffic violated the OpenAPI document:\n" + spec_checker.report())


@pytest.fixture
async def sim(sim_factory: SimFactory) -> ArgilSimulator:
    """A running simulator with the default (fast) configuration."""
    return await sim_factory()


@pytest.fixture
async def client(sim: ArgilSimulator) -> AsyncIterator[AsyncArgil]:
    """An AsyncArgil talking to the default simulator (its traffic is checked too)."""
    async with client_for(sim) as argil:
        yield argil

"""Fixtures for the simulator's own tests: a raw HTTP helper, no SDK involved."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from sim_http import Api

from argil_async.testing import ArgilSimulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain client session, closed after the test."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def api(http: aiohttp.ClientSession, sim: ArgilSimulator) -> Api:
    """Raw API access to the checked `sim` fixture."""
    return Api(http, sim)

"""The client's HTTP session over its life: one per event loop, reopened after aclose()."""

from __future__ import annotations

import asyncio

import pytest
from support.client_fixtures import client_for

from argil_async import ArgilError, AsyncArgil
from argil_async.testing import ArgilSimulator


def test_client_reused_on_another_loop_says_so():
    """A client whose session is open on one loop gives a clear error on another."""
    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    with ArgilSimulator.in_thread() as sim:
        client = AsyncArgil(api_key=sim.api_key, base_url=sim.base_url)
        try:
            first.run_until_complete(client.voices.list())
            with pytest.raises(ArgilError, match="another event loop"):
                second.run_until_complete(client.voices.list())
        finally:
            first.run_until_complete(client.aclose())
            first.close()
            second.close()


async def test_client_usable_again_after_aclose(sim: ArgilSimulator):
    """After aclose() the client opens a fresh session on next use."""
    client = client_for(sim)
    await client.voices.list()
    await client.aclose()
    assert await client.voices.list()
    await client.aclose()

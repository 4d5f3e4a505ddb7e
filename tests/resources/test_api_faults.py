"""Retries against real faults injected by the simulator.

Traffic is still checked against the OpenAPI document: an injected 429 or 5xx must carry the
documented {code, message} error body.
"""

from __future__ import annotations

import pytest
from support.client_fixtures import client_for

from argil_async import APIConnectionError, APITimeoutError, Moment, RateLimitError, Timeout


async def _avatar_id(argil) -> str:
    return (await argil.avatars.list(visibility="public"))[0].id


async def test_retry_after_is_honoured(sim_factory):
    """Every other request gets a 429 with Retry-After, and every call still succeeds."""
    sim = await sim_factory(rate_limit_every=2, retry_after=0.05)
    async with client_for(sim, max_retries=2) as argil:
        for _ in range(6):
            assert await argil.voices.list()
    assert sim.stats.injected_429 >= 3


async def test_5xx_are_retried(sim_factory):
    """Injected 5xx on GETs are retried transparently."""
    sim = await sim_factory(server_error_every=2)
    async with client_for(sim) as argil:
        for _ in range(6):
            assert await argil.avatars.list()
    assert sim.stats.injected_5xx >= 3


async def test_create_video_not_resent_after_drop(sim_factory):
    """POST /videos whose connection drops after processing is not resent: one video exists."""
    sim = await sim_factory(
        drop_every=1,
        fault_methods=frozenset({"POST"}),
        fault_path_prefix="/videos",
    )
    async with client_for(sim) as argil:
        avatar_id = await _avatar_id(argil)
        with pytest.raises(APIConnectionError):
            await argil.videos.create(
                name="once", moments=[Moment(avatar_id=avatar_id, transcript="x")]
            )
    assert sim.stats.by_route["POST /videos"] == 1
    assert len(sim.state.videos) == 1


async def test_get_is_resent_after_drop(sim_factory):
    """A GET whose connection drops is resent and succeeds."""
    sim = await sim_factory(drop_every=2, fault_methods=frozenset({"GET"}))
    async with client_for(sim) as argil:
        for _ in range(4):
            assert await argil.voices.list()
    assert sim.stats.injected_drops >= 1


async def test_rate_limit_beyond_retries_raises(sim_factory):
    """When every request is limited, RateLimitError surfaces after max_retries."""
    sim = await sim_factory(rate_limit_every=1, retry_after=0)
    async with client_for(sim, max_retries=1) as argil:
        with pytest.raises(RateLimitError):
            await argil.voices.list()
    assert sim.stats.requests == 2


async def test_read_timeout_raises_api_timeout(sim_factory):
    """A response slower than the read timeout raises APITimeoutError (a TimeoutError)."""
    sim = await sim_factory(latency=0.5)
    async with client_for(sim, timeout=Timeout(connect=1, read=0.1), max_retries=0) as argil:
        with pytest.raises(TimeoutError):
            await argil.voices.list()
    with pytest.raises(APITimeoutError):
        raise APITimeoutError("x")


async def test_connection_refused_is_api_connection_error():
    """A server that is not there gives APIConnectionError after the retries."""
    from argil_async import AsyncArgil, RetryPolicy

    async with AsyncArgil(
        api_key="k",
        base_url="http://127.0.0.1:9/v1",
        retry_policy=RetryPolicy(max_retries=1, wait_scale=0),
    ) as argil:
        with pytest.raises(APIConnectionError) as info:
            await argil.voices.list()
    assert info.value.maybe_sent is False

"""Class 5: the SDK owns every resend; aiohttp's own retry after a dropped keep-alive is off."""

from __future__ import annotations

import pytest
from support.client_fixtures import client_for

from argil_async import APIConnectionError, _transport


@pytest.mark.parametrize("max_retries", [0, 1, 2])
async def test_dropped_get_arrives_exactly_max_retries_plus_one(sim_factory, max_retries):
    """A GET whose connection always drops reaches the server 1 + max_retries times, no more."""
    sim = await sim_factory(drop_every=1, fault_methods=frozenset({"GET"}))
    async with client_for(sim, max_retries=max_retries) as argil:
        with pytest.raises(APIConnectionError):
            await argil.voices.list()
    assert sim.stats.by_route["GET /voices"] == max_retries + 1
    assert sim.stats.injected_drops == max_retries + 1


@pytest.mark.parametrize("switch", [True, False], ids=["session-switch", "response-class"])
async def test_dropped_get_on_a_reused_keep_alive_connection_is_not_resent_by_aiohttp(
    sim_factory, monkeypatch, switch
):
    """After a successful GET warms the pool, a dropped one still arrives once per attempt
    (with aiohttp's session switch, and with the response class used where it has none)."""
    monkeypatch.setattr(_transport, "_RESEND_SWITCH", switch and _transport._RESEND_SWITCH)
    sim = await sim_factory()
    async with client_for(sim, max_retries=0) as argil:
        await argil.voices.list()  # leaves a keep-alive connection in the pool
        sim.config.drop_every = 1
        sim.config.fault_methods = frozenset({"GET"})
        with pytest.raises(APIConnectionError):
            await argil.voices.list()
    assert sim.stats.by_route["GET /voices"] == 2


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
async def test_dropped_put_and_delete_arrive_once_without_retries(sim_factory, method):
    """PUT and DELETE (idempotent, so aiohttp would resend them) arrive once with max_retries=0."""
    sim = await sim_factory()
    async with client_for(sim, max_retries=0) as argil:
        hook = await argil.webhooks.create(
            callback_url="https://example.com/hook", events=["VIDEO_GENERATION_SUCCESS"]
        )
        sim.config.drop_every = 1
        sim.config.fault_methods = frozenset({method})
        if method == "PUT":
            call = argil.webhooks.update(hook.id, callback_url="https://example.com/other")
        else:
            call = argil.webhooks.delete(hook.id)
        with pytest.raises(APIConnectionError):
            await call
    assert sim.stats.by_route[f"{method} /webhooks/{{id}}"] == 1

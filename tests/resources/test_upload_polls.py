"""Uploads in flight share their status polls: one listing per tick serves every waiter."""

from __future__ import annotations

import asyncio

import pytest
from support.client_fixtures import client_for

from argil_async import GenerationFailedError, NotFoundError


def _url(n: int, extra: str = "") -> str:
    return f"https://cdn.test/shared-{n}.png{extra}"


def _calls(sim, route: str) -> int:  # type: ignore[no-untyped-def]
    return int(sim.stats.by_route.get(route, 0))


async def test_concurrent_uploads_share_their_polls(sim_factory):
    """15 uploads under the 5-asset limit: all READY, no 429, at most 4 calls per upload
    (a GET per waiter per poll made 6)."""
    sim = await sim_factory(asset_processing_time=0.3)
    async with client_for(sim) as client:
        assets = await asyncio.gather(
            *(client.assets.upload(name=f"s{i}", type="IMAGE", url=_url(i)) for i in range(15))
        )
    assert [a.status for a in assets] == ["READY"] * 15
    assert all(a.file_url for a in assets)
    assert sim.stats.asset_rate_limited == 0
    assert sim.stats.max_processing_assets <= 5
    posts = _calls(sim, "POST /assets")
    reads = _calls(sim, "GET /assets") + _calls(sim, "GET /assets/{id}")
    assert posts == 15
    assert posts + reads <= 4 * 15, sim.stats.by_route


async def test_a_failed_upload_among_shared_waiters_raises_alone(sim_factory):
    """One FAILED asset among uploads sharing polls raises GenerationFailedError; the rest
    come back READY."""
    sim = await sim_factory(asset_processing_time=0.2)
    async with client_for(sim) as client:
        results = await asyncio.gather(
            *(
                client.assets.upload(
                    name=f"f{i}", type="IMAGE", url=_url(i, "?sim_outcome=FAILED" if i == 2 else "")
                )
                for i in range(4)
            ),
            return_exceptions=True,
        )
    failed = [r for r in results if isinstance(r, GenerationFailedError)]
    ready = [r for r in results if not isinstance(r, BaseException)]
    assert len(failed) == 1
    assert failed[0].resource is not None
    assert failed[0].resource.status == "FAILED"
    assert len(ready) == 3
    assert all(a.status == "READY" for a in ready)


async def test_cancelling_one_waiter_leaves_the_others_polling(sim_factory):
    """A waiter cancelled mid-wait does not cancel the listing the others share."""
    sim = await sim_factory(asset_processing_time=0.4)
    async with client_for(sim) as client:
        first = await client.assets.upload(name="c0", type="IMAGE", url=_url(100), wait=False)
        second = await client.assets.upload(name="c1", type="IMAGE", url=_url(101), wait=False)
        doomed = asyncio.ensure_future(client.assets.wait_until_ready(first.id, poll_interval=0.05))
        kept = asyncio.ensure_future(client.assets.wait_until_ready(second.id, poll_interval=0.05))
        await asyncio.sleep(0.1)
        doomed.cancel()
        asset = await kept
        with pytest.raises(asyncio.CancelledError):
            await doomed
    assert asset.status == "READY"
    assert asset.id == second.id


async def test_an_asset_deleted_while_waited_on_is_not_found(sim_factory):
    """An asset that vanishes from the PROCESSING listing is read, and its 404 surfaces."""
    sim = await sim_factory(asset_processing_time=5.0)
    async with client_for(sim) as client:
        asset = await client.assets.upload(name="d", type="IMAGE", url=_url(200), wait=False)
        waiter = asyncio.ensure_future(client.assets.wait_until_ready(asset.id, poll_interval=0.05))
        await asyncio.sleep(0.1)
        await client.assets.delete(asset.id)
        with pytest.raises(NotFoundError):
            await waiter


async def test_a_call_with_its_own_options_polls_on_its_own(sim_factory):
    """Per-call options (here extra headers) go with the call's own GETs, never a listing."""
    sim = await sim_factory(asset_processing_time=0.2)
    async with client_for(sim) as client:
        asset = await client.assets.upload(
            name="o", type="IMAGE", url=_url(300), extra_headers={"X-Trace": "t1"}
        )
    assert asset.status == "READY"
    assert _calls(sim, "GET /assets") == 0
    assert _calls(sim, "GET /assets/{id}") >= 1

"""Brief Redis outages: the Redis limiter retries (a quarter of ``lease_ttl``, at most 10 s)
instead of failing an upload, or falling back on a local count, at the first refused call."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from support.client_fixtures import client_for

from argil_async.limits import LimiterUnavailableError, RedisAssetLimiter, RedisLease

OUTAGE = 1.1  # seconds without Redis


async def test_an_upload_rides_out_a_redis_restart(sim_factory, redis_process):
    """Redis killed and restarted 1.1 s later: the upload waits for it, takes a slot in Redis
    (not the local fallback) and is sent once."""
    sim = await sim_factory()
    limiter = RedisAssetLimiter(redis_process.url, name="outage")  # fallback="error"
    async with client_for(sim, asset_limiter=limiter) as client:
        await limiter.release(await limiter.acquire())  # connected, subscribed
        await anyio.to_thread.run_sync(redis_process.stop)
        upload = asyncio.ensure_future(
            client.assets.upload(name="o", type="IMAGE", url="https://x.test/o.png")
        )
        await anyio.sleep(OUTAGE)
        assert not upload.done()  # waiting for Redis, not failed
        await anyio.to_thread.run_sync(redis_process.start)
        asset = await upload
        assert asset.status == "READY"
    assert sim.stats.by_route["POST /assets"] == 1


async def test_acquire_during_a_restart_takes_a_redis_lease(redis_process):
    """An acquire during a 1.1 s outage gets a lease counted in Redis, never a local one."""
    limiter = RedisAssetLimiter(redis_process.url, name="outage", fallback="local")
    try:
        assert await limiter.held() == 0
        await anyio.to_thread.run_sync(redis_process.stop)
        acquire = asyncio.ensure_future(limiter.acquire())
        await anyio.sleep(OUTAGE)
        await anyio.to_thread.run_sync(redis_process.start)
        lease = await acquire
        assert isinstance(lease, RedisLease)
        assert lease.token is not None
        assert lease.local is None
        assert await limiter.held() == 1
        await limiter.release(lease)
        assert await limiter.held() == 0
    finally:
        await limiter.aclose()


async def test_a_paused_redis_only_delays_acquire(redis_process):
    """Redis stopped (SIGSTOP) for 1.1 s: the acquire answers once it resumes."""
    limiter = RedisAssetLimiter(redis_process.url, name="paused")
    try:
        assert await limiter.held() == 0
        redis_process.pause()
        try:
            acquire = asyncio.ensure_future(limiter.acquire())
            await anyio.sleep(OUTAGE)
            assert not acquire.done()
        finally:
            redis_process.resume()
        lease = await acquire
        assert await limiter.held() == 1
        await limiter.release(lease)
    finally:
        await limiter.aclose()


async def test_a_long_outage_fails_closed_after_the_budget(sim_factory, redis_process):
    """Redis gone for longer than a quarter of lease_ttl: LimiterUnavailableError, unsent."""
    sim = await sim_factory()
    limiter = RedisAssetLimiter(redis_process.url, name="gone", lease_ttl=2)
    async with client_for(sim, asset_limiter=limiter) as client:
        assert await limiter.held() == 0
        await anyio.to_thread.run_sync(redis_process.stop)
        with pytest.raises(LimiterUnavailableError, match="unreachable"):
            await client.assets.upload(name="g", type="IMAGE", url="https://x.test/g.png")
    assert sim.stats.by_route["POST /assets"] == 0


async def test_an_acquire_whose_answer_was_lost_takes_one_slot(redis_url: str, redis_name: str):
    """ACQUIRE ran in Redis but the dropped connection lost its answer: the retry (same token)
    is answered with that lease, instead of waiting for its own orphan to expire (the only
    slot here)."""
    limiter = RedisAssetLimiter(redis_url, name=redis_name, slots=1, lease_ttl=3)
    try:
        await limiter.release(await limiter.acquire())  # connected: the scripts are registered
        store = limiter._store  # the limiter's argil_async._redis.RedisLink
        acquire_script = store.scripts["ACQUIRE"]
        lost: list[str] = []

        async def answer_lost(**arguments: Any) -> object:
            answer = await acquire_script(**arguments)
            if not lost:  # the first time: it ran, then the connection dropped
                lost.append(arguments["args"][1])  # the lease token it took the slot for
                raise RedisConnectionError("Connection reset by peer")
            return answer

        store.scripts["ACQUIRE"] = answer_lost  # type: ignore[assignment]
        lease = await limiter.acquire()
        assert isinstance(lease, RedisLease)
        assert lost == [lease.token]  # the slot the lost answer took, not a second one
        assert await limiter.held() == 1
        await limiter.release(lease)
        assert await limiter.held() == 0
    finally:
        await limiter.aclose()

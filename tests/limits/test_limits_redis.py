"""RedisAssetLimiter against a real redis-server: atomic slots, release by anyone, expiry,
renewal, cancellation, the shared cool-down, and Redis being unreachable.

Several limiter objects with the same ``name`` stand for several processes here (each has
its own connections); tests/limits/test_limits_fleet.py runs real processes.
"""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys

import anyio
import pytest
from support.client_fixtures import client_for

from argil_async import AsyncArgil, errors
from argil_async.limits import (
    AssetLimiter,
    InProcessAssetLimiter,
    LimiterUnavailableError,
    RedisAssetLimiter,
)
from argil_async.models import Asset


def _asset(id: str, status: str) -> Asset:
    return Asset(id=id, name=id, type="IMAGE", status=status)


async def _fleet(
    redis_url: str, name: str, count: int, **options: object
) -> list[RedisAssetLimiter]:
    return [RedisAssetLimiter(redis_url, name=name, **options) for _ in range(count)]  # type: ignore[arg-type]


async def _close(limiters: list[RedisAssetLimiter]) -> None:
    for limiter in limiters:
        await limiter.aclose()


async def _acquired_within(limiter: RedisAssetLimiter, seconds: float) -> bool:
    with anyio.move_on_after(seconds):
        await limiter.acquire()
        return True
    return False


def test_import_argil_async_does_not_import_redis() -> None:
    """`import argil_async` leaves redis alone; only argil_async.limits needs it."""
    code = "import sys, argil_async; assert 'redis' not in sys.modules, 'redis imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_both_limiters_implement_the_interface(redis_url: str) -> None:
    """The in-process and the Redis limiter are both AssetLimiters."""
    assert isinstance(InProcessAssetLimiter(5), AssetLimiter)
    assert isinstance(RedisAssetLimiter(redis_url), AssetLimiter)


async def test_four_processes_never_take_more_than_the_slots(redis_url: str, redis_name: str):
    """40 acquires racing from 4 limiters get exactly 5 slots; each release admits one more."""
    limiters = await _fleet(redis_url, redis_name, 4)
    taken: list[tuple[RedisAssetLimiter, object]] = []

    async def take(limiter: RedisAssetLimiter) -> None:
        taken.append((limiter, await limiter.acquire()))

    try:
        async with anyio.create_task_group() as tg:
            for i in range(40):
                tg.start_soon(take, limiters[i % 4])
            await anyio.sleep(0.5)
            assert len(taken) == 5
            assert await limiters[0].held() == 5
            for _ in range(3):
                owner, lease = taken[0]
                await owner.release(lease)  # type: ignore[arg-type]
                del taken[0]
                await anyio.sleep(0.3)
                assert len(taken) == 5
            tg.cancel_scope.cancel()
    finally:
        await _close(limiters)


async def test_any_process_seeing_the_asset_ready_frees_the_slot(redis_url: str, redis_name: str):
    """A lease is keyed by asset id: another process observing READY (or a delete) frees it."""
    holder, other = await _fleet(redis_url, redis_name, 2, slots=2)
    try:
        first, second = await holder.acquire(), await holder.acquire()
        await holder.bind(first, _asset("a1", "PROCESSING"))
        await holder.bind(second, _asset("a2", "PROCESSING"))
        assert not await _acquired_within(other, 0.3)
        await other.observe([_asset("a1", "READY"), _asset("zz", "READY")])
        assert await _acquired_within(other, 5)
        await other.forget("a2")
        assert await _acquired_within(other, 5)
        assert await holder.held() == 2  # the two taken by `other`
    finally:
        await _close([holder, other])


async def test_duplicate_upload_is_counted_once(redis_url: str, redis_name: str):
    """Two leases bound to one asset (a duplicate upload, 200) keep one slot, not two."""
    (limiter,) = await _fleet(redis_url, redis_name, 1)
    try:
        first, second = await limiter.acquire(), await limiter.acquire()
        await limiter.bind(first, _asset("same", "PROCESSING"))
        await limiter.bind(second, _asset("same", "PROCESSING"))
        assert await limiter.held() == 1
        await limiter.bind(await limiter.acquire(), _asset("done", "READY"))
        assert await limiter.held() == 1
    finally:
        await limiter.aclose()


async def test_dead_holder_slots_come_back_after_the_ttl(redis_url: str, redis_name: str):
    """A holder that stops renewing (dead) loses its slots once lease_ttl has passed."""
    dead, alive = await _fleet(redis_url, redis_name, 2, lease_ttl=0.5)
    for _ in range(5):
        await dead.bind(await dead.acquire(), _asset(f"d{_}", "PROCESSING"))
    await dead.aclose()  # renewal stops, as when the process is killed
    try:
        for _ in range(5):
            assert await _acquired_within(alive, 10)
        assert await alive.held() == 5
    finally:
        await alive.aclose()


async def test_live_holder_renews_its_leases(redis_url: str, redis_name: str):
    """Leases of a live holder outlast many TTLs: the holder renews them."""
    holder, other = await _fleet(redis_url, redis_name, 2, lease_ttl=0.6, slots=1)
    try:
        await holder.bind(await holder.acquire(), _asset("long", "PROCESSING"))
        assert not await _acquired_within(other, 2.0)
        assert await holder.held() == 1
        await other.observe([_asset("long", "READY")])
        assert await _acquired_within(other, 5)
    finally:
        await _close([holder, other])


async def test_a_waiter_sleeps_until_pub_sub_wakes_it(redis_url: str, redis_name: str):
    """A waiting acquire asks Redis only a few times in 2 s, and a release wakes it by pub/sub."""
    holder, waiter = await _fleet(
        redis_url, redis_name, 2, slots=1, recheck_interval=600, lease_ttl=600
    )
    attempts = 0
    store = waiter._store  # the limiter's argil_async._redis.RedisLink
    store.client()  # connect: the scripts are registered on the client
    acquire_script = store.scripts["ACQUIRE"]

    async def counted(**arguments: object) -> object:
        nonlocal attempts
        attempts += 1
        return await acquire_script(**arguments)  # type: ignore[arg-type]

    store.scripts["ACQUIRE"] = counted  # type: ignore[assignment]
    try:
        lease = await holder.acquire()
        waiting = asyncio.ensure_future(waiter.acquire())
        await asyncio.sleep(2)
        assert not waiting.done()
        assert attempts <= 3  # the first try, and a re-check once subscribed: no polling
        await holder.release(lease)
        with anyio.fail_after(30):  # far less than the 600 s re-check or lease: a message woke it
            await waiting
    finally:
        await _close([holder, waiter])


async def test_cancelled_acquire_leaves_no_lease(redis_url: str, redis_name: str):
    """A waiting acquire is cancellable and holds nothing afterwards."""
    (limiter,) = await _fleet(redis_url, redis_name, 1, slots=1)
    try:
        lease = await limiter.acquire()
        assert not await _acquired_within(limiter, 0.3)
        assert await limiter.held() == 1
        await limiter.release(lease)
        assert await limiter.held() == 0
    finally:
        await limiter.aclose()


async def test_random_operations_never_exceed_the_slots(redis_url: str, redis_name: str):
    """300 random acquires, binds, releases and observations over 3 limiters: held <= slots."""
    limiters = await _fleet(redis_url, redis_name, 3, slots=3)
    rng = random.Random(12)
    held: list[tuple[RedisAssetLimiter, object]] = []
    try:
        for step in range(300):
            limiter = rng.choice(limiters)
            action = rng.random()
            if action < 0.45:
                with anyio.move_on_after(0.02):
                    held.append((limiter, await limiter.acquire()))
            elif action < 0.6 and held:
                owner, lease = held[rng.randrange(len(held))]
                await owner.bind(lease, _asset(f"a{rng.randrange(6)}", "PROCESSING"))  # type: ignore[arg-type]
            elif action < 0.8 and held:
                owner, lease = held.pop(rng.randrange(len(held)))
                await owner.release(lease)  # type: ignore[arg-type]
            else:
                await limiter.observe([_asset(f"a{rng.randrange(6)}", "READY")])
            assert await limiters[0].held() <= 3, f"over the limit at step {step}"
    finally:
        await _close(limiters)


async def test_clients_sharing_redis_stay_under_the_workspace_limit(
    redis_url: str, redis_name: str, sim_factory
):
    """3 clients with 10 uploads each: never more than 5 processing at once, no 429."""
    sim = await sim_factory(asset_processing_time=0.2)

    async def uploads(client: AsyncArgil, tag: int) -> list[Asset]:
        async with client:
            return list(
                await asyncio.gather(
                    *(
                        client.assets.upload(
                            name=f"{tag}-{i}", type="IMAGE", url=f"https://x.test/{tag}/{i}.png"
                        )
                        for i in range(10)
                    )
                )
            )

    clients = [
        client_for(sim, asset_limiter=RedisAssetLimiter(redis_url, name=redis_name))
        for _ in range(3)
    ]
    done = await asyncio.gather(*(uploads(client, i) for i, client in enumerate(clients)))
    assert all(asset.status == "READY" for batch in done for asset in batch)
    assert sim.stats.max_processing_assets <= 5
    assert sim.stats.asset_rate_limited == 0
    assert sim.stats.by_route["POST /assets"] == 30


async def test_a_429_pauses_uploads_of_every_client(redis_url: str, redis_name: str, sim_factory):
    """A 429 with Retry-After seen by one client pauses another client's POSTs until then."""
    stormy = await sim_factory(
        rate_limit_every=1,
        retry_after=2,
        fault_methods=frozenset({"POST"}),
        fault_path_prefix="/assets",
    )
    calm = await sim_factory(asset_processing_time=0.05)
    limiter = RedisAssetLimiter(redis_url, name=redis_name)
    async with client_for(stormy, max_retries=0, asset_limiter=limiter) as storm:
        with pytest.raises(errors.RateLimitError):
            await storm.assets.upload(name="s", type="IMAGE", url="https://x.test/s.png", timeout=1)
    other = RedisAssetLimiter(redis_url, name=redis_name)
    async with client_for(calm, asset_limiter=other) as client:
        assert await other._pause_left() > 0.5
        upload = asyncio.ensure_future(
            client.assets.upload(name="c", type="IMAGE", url="https://x.test/c.png")
        )
        await asyncio.sleep(0.5)
        assert calm.stats.by_route["POST /assets"] == 0  # still paused
        assert (await upload).status == "READY"
    assert calm.stats.by_route["POST /assets"] == 1


async def test_unreachable_redis_fails_closed(sim_factory):
    """No Redis: the upload raises LimiterUnavailableError (a RedisError), unsent."""
    sim = await sim_factory()
    # lease_ttl=4: Redis is retried for a quarter of it (1 s) before the upload gives up
    limiter = RedisAssetLimiter("redis://:hunter2@127.0.0.1:1/0", lease_ttl=4)
    assert "hunter2" not in repr(limiter)
    async with client_for(sim, asset_limiter=limiter) as client:
        with pytest.raises(LimiterUnavailableError) as caught:
            await client.assets.upload(name="n", type="IMAGE", url="https://x.test/n.png")
    assert isinstance(caught.value, errors.RedisUnavailableError)
    assert not isinstance(caught.value, errors.APIConnectionError)  # Argil is not down
    assert caught.value.maybe_sent is False
    assert "hunter2" not in str(caught.value)
    assert sim.stats.by_route["POST /assets"] == 0


async def test_unreachable_redis_with_local_fallback_uploads(sim_factory):
    """fallback='local': with Redis down uploads go on, counted in this process."""
    sim = await sim_factory()
    limiter = RedisAssetLimiter("redis://127.0.0.1:1/0", fallback="local", slots=2, lease_ttl=4)
    async with client_for(sim, asset_limiter=limiter) as client:
        assets = await asyncio.gather(
            *(
                client.assets.upload(name=f"f{i}", type="IMAGE", url=f"https://x.test/{i}.png")
                for i in range(4)
            )
        )
    assert [asset.status for asset in assets] == ["READY"] * 4
    assert sim.stats.max_processing_assets <= 2


def test_limiter_arguments_are_checked() -> None:
    """Both asset_concurrency and asset_limiter, or bad limiter options: InvalidRequestError."""
    with pytest.raises(errors.InvalidRequestError, match="not both"):
        AsyncArgil(api_key="k", asset_concurrency=3, asset_limiter=InProcessAssetLimiter(3))
    with pytest.raises(errors.InvalidRequestError, match="asset_limiter"):
        AsyncArgil(api_key="k", asset_limiter=object())  # type: ignore[arg-type]
    for bad in ({"slots": 0}, {"lease_ttl": 0}, {"name": ""}, {"fallback": "maybe"}):
        with pytest.raises(errors.InvalidRequestError):
            RedisAssetLimiter("redis://127.0.0.1:6379/0", **bad)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidRequestError):
        RedisAssetLimiter(42)  # type: ignore[arg-type]


async def test_in_process_limiter_pauses_after_a_429(sim_factory) -> None:
    """The default limiter also pauses this client's other uploads for a 429's Retry-After."""
    sim = await sim_factory(
        rate_limit_every=1,
        retry_after=2,
        fault_methods=frozenset({"POST"}),
        fault_path_prefix="/assets",
    )
    async with client_for(sim, max_retries=0) as client:
        with pytest.raises(errors.RateLimitError):
            await client.assets.upload(
                name="s", type="IMAGE", url="https://x.test/s.png", timeout=0.5
            )
        sim.config.rate_limit_every = None
        upload = asyncio.ensure_future(
            client.assets.upload(name="t", type="IMAGE", url="https://x.test/t.png")
        )
        await asyncio.sleep(0.5)
        assert sim.stats.by_route["POST /assets"] == 1  # only the 429'd one so far
        assert (await upload).status == "READY"
    assert sim.stats.by_route["POST /assets"] == 2

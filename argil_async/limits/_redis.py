"""``RedisAssetLimiter``: the workspace's 5 processing assets shared by a fleet of processes.

Each slot is a lease in Redis (a sorted set of tokens scored by their expiry), taken and
expired by one Lua script (``_redis_scripts``), so two processes never both take the fifth
slot. The holder renews its leases every third of ``lease_ttl`` while their assets process;
any process that sees an asset leave PROCESSING (or deletes it) frees the lease counting it,
whoever holds it; a holder that dies stops renewing and its leases expire. Waiters sleep on
a pub/sub channel that every freed slot is announced on, re-checking at least every
``recheck_interval`` seconds (a missed message, or a lease due to expire), and only one
task per process asks Redis at a time. A 429 with Retry-After on any upload sets a shared
cool-down that every process waits out before its next POST.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Literal

import anyio

from .. import _redis
from .. import _validation as check
from .._redis import RedisLink, check_redis, retry_budget, where
from ..errors import RedisUnavailableError
from ..models import Asset
from . import _scripts as scripts
from ._local import InProcessAssetLimiter, Lease

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = ["LimiterUnavailableError", "RedisAssetLimiter", "RedisLease"]

logger = logging.getLogger("argil_async")


class LimiterUnavailableError(RedisUnavailableError):
    """The shared limiter's Redis could not be reached (also after retrying through a brief
    outage); the upload was not sent.

    Raised by uploads through a ``RedisAssetLimiter(fallback="error")`` (the default): going
    on without the fleet's count could exceed the workspace limit. Pass ``fallback="local"``
    to fall back on an in-process limiter instead. A [`RedisError`][argil_async.errors.RedisError],
    not an ``APIConnectionError``: Argil itself may be fine.
    """


class RedisLease(Lease):
    """A slot in Redis (``token``), or in the local fallback limiter (``local``)."""

    __slots__ = ("local", "taken_at", "token")

    def __init__(self, token: str | None, ttl: float, local: Lease | None = None) -> None:
        super().__init__(time.monotonic() + ttl)
        self.token: str | None = token
        self.local: Lease | None = local
        self.taken_at: float = time.monotonic()


class _Link:
    """The loop-bound half: the pub/sub listener, the renewer, the wake-ups."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.turn = asyncio.Lock()  # one task per process asks Redis for a slot at a time
        self.changed = asyncio.Event()
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.learning: set[asyncio.Task[Any]] = set()

    def wake(self) -> None:
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()


class RedisAssetLimiter:
    """The asset-processing limit shared through Redis by every process that uses ``name``.

    ``redis`` is a URL (``redis://host:6379/0``, ``rediss://`` for TLS) or a
    ``redis.asyncio.Redis`` client; a client made from a URL is opened on first use and
    closed by [`aclose()`][argil_async.limits.RedisAssetLimiter.aclose] (``AsyncArgil.aclose()``
    calls it). ``lease_ttl`` is how long a dead holder keeps its slots; ``max_hold`` caps how long a
    slot whose asset is never looked at again is renewed. When Redis cannot be reached an upload
    raises [`LimiterUnavailableError`][argil_async.limits.LimiterUnavailableError], or with
    ``fallback="local"`` counts against an in-process limiter of ``slots`` (the fleet may then
    exceed the limit). Example:

    ```python
    limiter = RedisAssetLimiter("redis://cache:6379/0", name="workspace-acme")
    async with AsyncArgil(asset_limiter=limiter) as client:
        asset = await client.assets.upload(name="b", type="IMAGE", url="https://...")
    ```
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        *,
        slots: int = 5,
        lease_ttl: float = 30.0,
        name: str = "argil",
        fallback: Literal["error", "local"] = "error",
        max_hold: float = 900.0,
        recheck_interval: float = 2.0,
    ) -> None:
        _check(redis, slots, name, fallback)
        for field, value in (("lease_ttl", lease_ttl), ("max_hold", max_hold)):
            _check_seconds(field, value)
        _check_seconds("recheck_interval", recheck_interval)
        self.slots = slots
        self.lease_ttl: float = float(lease_ttl)
        self.max_hold: float = float(max_hold)
        self.recheck_interval: float = float(recheck_interval)
        self.name = name
        self.fallback = fallback
        self._redis = redis
        self._store = RedisLink(
            redis,
            {name: getattr(scripts, name) for name in scripts.__all__},
            retry_for=retry_budget(self.lease_ttl),
            unavailable=LimiterUnavailableError,
        )
        self._keys = [f"argil:{{{name}}}:{part}" for part in ("leases", "assets", "tokens")]
        self._keys += [f"argil:{{{name}}}:cooldown", f"argil:{{{name}}}:processing"]
        self._channel = f"argil:{{{name}}}:freed"
        self._local = InProcessAssetLimiter(slots)
        self._link: _Link | None = None
        self._held: dict[str, RedisLease] = {}
        self._by_asset: dict[str, RedisLease] = {}

    def __repr__(self) -> str:
        return f"RedisAssetLimiter({where(self._redis)}, slots={self.slots}, name={self.name!r})"

    @property
    def expected_processing(self) -> float | None:
        """How long processing has taken here (a moving average), to time upload polls."""
        return self._local.expected_processing

    def learn(self, duration: float) -> None:
        """Fold one observed processing duration into the fleet's ``expected_processing``."""
        self._local.learn(duration)
        link = self._link
        if link is not None and link.loop is asyncio.get_running_loop():
            task = link.loop.create_task(
                self._run("LEARN", max(1, int(duration * 1000)), default=0)
            )
            link.learning.add(task)  # a reference until done, so that it is not collected
            task.add_done_callback(link.learning.discard)

    async def acquire(self) -> Lease:
        """Wait (cancellably) for a free slot in the fleet and take it."""
        try:
            link = self._connect()
            self._listen(link)
            async with link.turn:
                return await self._acquire(link)
        except LimiterUnavailableError as exc:
            if self.fallback == "error":
                raise LimiterUnavailableError(f"{self!r}: {exc}") from exc
            logger.warning("%r: Redis unreachable (%s); counting in this process only", self, exc)
            return RedisLease(None, self._local.lease_timeout, await self._local.acquire())

    async def bind(self, lease: Lease, asset: Asset) -> None:
        """Count ``asset`` under ``lease``; free the lease if it is not processing after all."""
        lease = _ours(lease)
        if lease.local is not None:
            return await self._local.bind(lease.local, asset)
        if asset.status != "PROCESSING" or lease.token is None:
            return await self.release(lease)
        ms = int(self.lease_ttl * 1000)
        counted = await self._run("BIND", lease.token, asset.id, ms, default=1)
        if counted:
            lease.asset_id = asset.id
            self._by_asset[asset.id] = lease
        else:  # a duplicate upload: the lease already counting the asset stays
            self._drop(lease)

    async def release(self, lease: Lease) -> None:
        """Give the slot back (also when another process has already freed it)."""
        lease = _ours(lease)
        if lease.local is not None:
            return await self._local.release(lease.local)
        self._drop(lease)
        if lease.token is not None:
            await self._run("RELEASE_TOKENS", lease.token, default=0)

    async def observe(self, assets: Iterable[Asset]) -> None:
        """Free the slots of assets seen in any status but PROCESSING, whoever holds them."""
        assets = list(assets)
        await self._local.observe(assets)
        finished = [asset.id for asset in assets if asset.status != "PROCESSING"]
        if finished:
            await self._free_assets(finished)

    async def forget(self, asset_id: str) -> None:
        """Free the slot of an asset that is gone (deleted, or a 404)."""
        await self._local.forget(asset_id)
        await self._free_assets([asset_id])

    async def pause(self, seconds: float) -> None:
        """Pause every process's uploads for ``seconds`` (a 429's Retry-After)."""
        await self._local.pause(seconds)
        await self._run("PAUSE", max(1, int(seconds * 1000)), default=0)

    async def cooled(self) -> None:
        """Return once no process's 429 pause is in force."""
        await self._local.cooled()
        # Another process's 429 may push the end back while we sleep: check again.
        while (left := await self._pause_left()) > 0:  # noqa: ASYNC110
            await anyio.sleep(left)

    async def held(self) -> int:
        """Live leases in Redis now, across the fleet (expired ones are not counted)."""
        now_s, now_us = await self._store.call(lambda client: client.time())
        now = now_s * 1000 + now_us // 1000
        return int(
            await self._store.call(lambda client: client.zcount(self._keys[0], f"({now}", "+inf"))
        )

    async def aclose(self) -> None:
        """Stop listening and renewing; close the Redis client made from a URL.

        Leases still held are no longer renewed: they expire after ``lease_ttl``.
        """
        link, self._link = self._link, None
        self._held.clear()
        self._by_asset.clear()
        if link is None or link.loop is not asyncio.get_running_loop():
            return
        for task in link.tasks.values():
            task.cancel()
        with anyio.CancelScope(shield=True):
            await asyncio.gather(*link.learning, return_exceptions=True)
            await asyncio.gather(*link.tasks.values(), return_exceptions=True)
            await self._store.aclose()

    async def __aenter__(self) -> RedisAssetLimiter:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _connect(self) -> _Link:
        link = self._link
        if link is None or link.loop is not asyncio.get_running_loop():
            link = self._link = _Link()
        return link

    async def _acquire(self, link: _Link) -> RedisLease:
        ms = int(self.lease_ttl * 1000)
        while True:
            changed = link.changed
            token = uuid.uuid4().hex
            try:
                taken, wait_ms, average = await self._script("ACQUIRE", token, self.slots, ms)
            except asyncio.CancelledError:
                await self._abandon(token)  # the script may have run: free its lease
                raise
            if average >= 0:  # what the fleet has seen, before this process has seen any
                self._local.expected_processing = average / 1000
            if taken:
                return self._took(link, token)
            with anyio.move_on_after(min(max(wait_ms, 1) / 1000, self.recheck_interval)):
                await changed.wait()

    def _took(self, link: _Link, token: str) -> RedisLease:
        lease = RedisLease(token, self.lease_ttl)
        self._held[token] = lease
        task = link.tasks.get("renew")
        if task is None or task.done():
            link.tasks["renew"] = asyncio.get_running_loop().create_task(self._renew())
        return lease

    async def _abandon(self, token: str) -> None:
        with anyio.move_on_after(2.0, shield=True), contextlib.suppress(RedisUnavailableError):
            await self._script("RELEASE_TOKENS", token)

    def _listen(self, link: _Link) -> None:
        """Start the pub/sub listener once per loop (it wakes the waiters once subscribed)."""
        task = link.tasks.get("listen")
        if task is None or task.done():
            link.tasks["listen"] = asyncio.get_running_loop().create_task(self._listener(link))

    async def _listener(self, link: _Link) -> None:
        while True:
            try:
                async with self._store.client().pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    link.wake()  # anything freed while we were not subscribed
                    while True:
                        message = await pubsub.get_message(
                            ignore_subscribe_messages=True, timeout=self.recheck_interval
                        )
                        if message is not None:
                            link.wake()
            except self._store.errors as exc:
                logger.debug("%r: pub/sub lost (%s); re-subscribing", self, exc)
                await anyio.sleep(min(1.0, self.recheck_interval))

    async def _renew(self) -> None:
        """Every third of the TTL, renew the leases held here; drop those freed elsewhere."""
        await _redis.renew_periodically(self.lease_ttl / 3, self._renew_once)

    async def _renew_once(self) -> bool:
        """Renew the live leases (not those held past ``max_hold``); False once none is held."""
        now = time.monotonic()
        live = [t for t, lease in self._held.items() if now - lease.taken_at < self.max_hold]
        if live:
            ms = int(self.lease_ttl * 1000)
            renewed = await self._run("RENEW", ms, *live, default=[1] * len(live))
            for token, kept in zip(live, renewed, strict=False):
                if not kept and token in self._held:
                    self._drop(self._held[token])
        return bool(self._held)

    async def _free_assets(self, asset_ids: list[str]) -> None:
        for asset_id in asset_ids:
            lease = self._by_asset.get(asset_id)
            if lease is not None:
                self._drop(lease)
        await self._run("RELEASE_ASSETS", *asset_ids, default=0)

    async def _pause_left(self) -> float:
        try:
            ms = await self._store.call(lambda client: client.pttl(self._keys[3]))
        except LimiterUnavailableError as exc:
            logger.warning("%r: cannot read the shared pause (%s)", self, exc)
            return 0.0
        return max(0, int(ms)) / 1000

    async def _run(self, script: str, *args: str | int, default: Any) -> Any:
        """Run a script that frees or extends; Redis errors are logged, leases expire anyway."""
        try:
            return await self._script(script, *args)
        except LimiterUnavailableError as exc:
            logger.warning("%r: %s failed (%s); leases will expire by TTL", self, script, exc)
            return default

    async def _script(self, script: str, *args: str | int) -> Any:
        """Run one of the limiter's scripts, retried through a brief outage (``_redis``)."""
        return await self._store.script(script, self._keys, [self._channel, *args])

    def _drop(self, lease: RedisLease) -> None:
        """Forget ``lease`` here (stop renewing it) and wake this process's waiter."""
        if lease.token is not None:
            self._held.pop(lease.token, None)
        if lease.asset_id is not None and self._by_asset.get(lease.asset_id) is lease:
            del self._by_asset[lease.asset_id]
        if self._link is not None and self._link.loop is asyncio.get_running_loop():
            self._link.wake()


def _ours(lease: Lease) -> RedisLease:
    if not isinstance(lease, RedisLease):
        raise check.fail("lease", "must be a lease taken from this RedisAssetLimiter", lease)
    return lease


def _check(redis: object, slots: object, name: object, fallback: object) -> None:
    check_redis("redis", redis)
    check.integer("slots", slots, low=1)
    check.printable("name", name)
    check.choice("fallback", fallback, ("error", "local"))


def _check_seconds(field: str, value: object) -> None:
    check.seconds(field, value)

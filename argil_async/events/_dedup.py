"""Which deliveries were dispatched already: de-duplication keys and the stores that keep them.

A delivery's key is its ``webhook-id`` when it has one (Standard Webhooks senders keep it
across retries), else one derived from what it reports: the event name, the video's or
avatar's id and its ``status`` (``data.status``, when sent), so a callback Argil repeats is
dispatched once; an event this version does not know is keyed by its body's SHA-256.
[`MemoryDedupStore`][argil_async.events.MemoryDedupStore] (the default) remembers keys in one
process; [`RedisDedupStore`][argil_async.events.RedisDedupStore] shares them between the workers of
an app and across restarts.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from argil_async.errors import RedisUnavailableError, WebhookError

from .. import _validation as check
from .._redis import RedisLink, check_redis
from ._payloads import AvatarEvent, Event, UnknownEvent, VideoEvent

if TYPE_CHECKING:
    import redis.asyncio as aioredis

__all__ = [
    "DEFAULT_TTL",
    "MIN_TTL",
    "DedupStore",
    "MemoryDedupStore",
    "RedisDedupStore",
    "dedup_key",
]

MIN_TTL = 300.0  # the signature tolerance: a replay older than this is refused by its timestamp
DEFAULT_TTL = 86_400.0  # one day


@runtime_checkable
class DedupStore(Protocol):
    """Where a receiver records the keys of the deliveries it dispatched.

    [`claim()`][argil_async.events.DedupStore.claim] records a key and says whether it is new; the
    receiver dispatches only then. Any object with these two coroutines will do (a database table
    with a unique key, say).
    """

    async def claim(self, key: str) -> bool:
        """Record ``key``; True when it was not recorded yet (dispatch), False when it was."""
        ...

    async def aclose(self) -> None:
        """Release connections; the receiver's [`aclose()`][argil_async.events.DedupStore.aclose]
        calls it."""
        ...


class MemoryDedupStore:
    """Keys kept in this process: the last ``max_keys``, each for ``ttl`` seconds.

    Other workers and a restarted process do not see them: use
    [`RedisDedupStore`][argil_async.events.RedisDedupStore] to de-duplicate across both.
    """

    def __init__(self, *, max_keys: int = 10_000, ttl: float = DEFAULT_TTL) -> None:
        self.max_keys: int = check.integer("max_keys", max_keys, low=0)
        self.ttl: float = _ttl(ttl)
        self._keys: OrderedDict[str, float] = OrderedDict()  # key -> expiry, oldest first

    def __repr__(self) -> str:
        return f"MemoryDedupStore(max_keys={self.max_keys}, ttl={self.ttl:g})"

    def claim_now(self, key: str) -> bool:
        """[`claim()`][argil_async.events.MemoryDedupStore.claim] without awaiting (what the
        synchronous ``handle()`` uses)."""
        now = time.monotonic()
        while self._keys and next(iter(self._keys.values())) <= now:
            self._keys.popitem(last=False)
        if key in self._keys:
            return False
        self._keys[key] = now + self.ttl
        while len(self._keys) > self.max_keys:
            self._keys.popitem(last=False)
        return True

    async def claim(self, key: str) -> bool:
        """Record ``key``; True when it was not recorded yet."""
        return self.claim_now(key)

    async def aclose(self) -> None:
        """Nothing to release."""


# SET NX EX, and a retried claim whose first answer was lost recognises its own token.
_CLAIM = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return 1 end
return 0
"""
_RETRY_FOR = 2.0  # seconds of retrying an unreachable Redis before answering 503


class RedisDedupStore:
    """Keys shared through Redis by every worker and every restart: ``SET key NX EX ttl``.

    ``redis`` is the URL (``redis://host:6379/0``, ``rediss://`` for TLS) or the
    ``redis.asyncio.Redis`` client your limiter uses; a client made from a URL is opened on
    first use and closed by [`aclose()`][argil_async.events.RedisDedupStore.aclose]. Keys live
    ``ttl`` seconds (default one day, at least the 5-minute signature tolerance) under ``prefix``. A
    brief Redis outage is retried for 2 s; past that a delivery is answered 503
    (``rejected["unavailable"]``) and not dispatched, so the sender retries it later. Needs the
    ``[redis]`` extra:

    ```python
    dedup = RedisDedupStore("redis://cache:6379/0")
    receiver = WebhookReceiver(dedup=dedup)  # every worker: dispatched once in the fleet
    ```
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        *,
        ttl: float = DEFAULT_TTL,
        prefix: str = "argil:webhooks:seen:",
    ) -> None:
        check_redis("redis", redis)
        if not isinstance(prefix, str):
            raise check.fail("prefix", "must be a string", prefix)
        self.ttl: float = _ttl(ttl)
        self.prefix = prefix
        self._link = RedisLink(
            redis, {"CLAIM": _CLAIM}, retry_for=_RETRY_FOR, unavailable=RedisUnavailableError
        )

    def __repr__(self) -> str:
        return f"RedisDedupStore({self._link!r}, ttl={self.ttl:g}, prefix={self.prefix!r})"

    async def claim(self, key: str) -> bool:
        """``SET prefix+sha256(key) <token> NX EX ttl``: True when this call set it."""
        name = self.prefix + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
        token = uuid.uuid4().hex
        try:
            created = await self._link.script("CLAIM", [name], [token, max(1, round(self.ttl))])
        except RedisUnavailableError as exc:
            raise WebhookError(
                "de-duplication store unavailable; retry later",
                status_code=503,
                reason="unavailable",
            ) from exc
        return bool(created)

    async def aclose(self) -> None:
        """Close the client this store opened (not one it was given)."""
        await self._link.aclose()


def _ttl(ttl: float) -> float:
    return check.number("ttl", ttl, low=MIN_TTL)


def dedup_key(event: Event, webhook_id: str | None, body: bytes) -> str:
    """The key a delivery is de-duplicated by (see the module's docstring)."""
    if webhook_id:
        return f"id:{webhook_id}"
    if isinstance(event, UnknownEvent):
        return f"body:{hashlib.sha256(body).hexdigest()}"
    status = event.raw.get("status")
    status_text = status if isinstance(status, str) else ""
    subject = _subject(event)
    return f"event:{event.event}:{subject}:{status_text}"


def _subject(event: VideoEvent | AvatarEvent) -> str:
    video_id = getattr(event, "video_id", None)
    if isinstance(video_id, str):
        return f"video:{video_id}"
    return f"avatar:{getattr(event, 'avatar_id', '')}"

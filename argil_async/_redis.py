"""Redis, for every part of the SDK that shares state through it: the one home of the plumbing.

The asset limiter (``limits._redis``), the batch coordinator (``batch._redis``) and the
webhook de-duplication store (``events._dedup``) talk to Redis through a `RedisLink`,
so they share one set of rules:

- **Where**: a ``redis://``, ``rediss://`` (TLS) or ``unix://`` URL, checked when the user's
  object is built (`check_redis()`: a bad scheme, port or database is an
  ``InvalidRequestError`` there, not a ``ValueError`` at first use), or a ready
  ``redis.asyncio.Redis`` client. A client made from a URL is opened on first use, per
  event loop, and closed by `RedisLink.aclose()`; a given client is the caller's to close.
- **Timeouts**: one policy, `CONNECT_TIMEOUT` to connect and `SOCKET_TIMEOUT`
  for an answer.
- **Brief outages**: a call that cannot reach Redis (refused, reset, timed out, Redis still
  loading its data after a restart, a replica turned read-only) is retried with jittered,
  doubling waits for up to ``retry_for`` seconds, which each user keeps well inside its
  leases; then it raises the user's
  [`RedisUnavailableError`][argil_async.errors.RedisUnavailableError] subclass. Once a call has
  given up, the next ones try once without waiting, until one succeeds (a Redis that is down does
  not cost every call the whole budget). A retried script may have run once already (its answer was
  lost): the limiter's ACQUIRE answers the lease its token already holds; a coordinator whose CLAIM
  was retried gives back the claims it does not know of (`RedisLink.failures` tells it); the others
  are harmless twice, or err on the safe side (a finished job's SAVE run twice is a
  ``ClaimLostError``: the worker stops acting on a job that is DONE already).
- **Scripts**: registered once per client (``EVALSHA``, reloaded by redis-py when Redis
  restarted); times come from the Redis server's clock (`LUA_NOW`), never a client's.
- **Leases**: renewed every third of their TTL by `renew_periodically()` (the
  limiter's slots, the coordinator's claims); `lua_renew()` is the Lua loop that pushes
  a lease set's expiries on (the limiter's; the coordinator's claims, fenced by token, have
  their own).

``redis`` is an optional extra: this module imports it only when a URL or client is checked
(a limiter or coordinator is made) or a link connects, so ``import argil_async``,
``argil_async.limits`` and ``argil_async.batch`` work without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import anyio

from . import _validation as check
from ._retry import RetryPolicy
from .errors import RedisUnavailableError

if TYPE_CHECKING:
    import redis.asyncio as aioredis
    from redis.commands.core import AsyncScript

__all__ = [
    "CONNECT_TIMEOUT",
    "LUA_NOW",
    "SOCKET_TIMEOUT",
    "RedisLink",
    "check_redis",
    "lua_renew",
    "renew_periodically",
    "retry_budget",
    "where",
]

logger = logging.getLogger("argil_async")
T = TypeVar("T")

#: Seconds to open a connection to Redis.
CONNECT_TIMEOUT = 5.0
#: Seconds to wait for Redis to answer one command.
SOCKET_TIMEOUT = 10.0
#: The longest a call retries an unreachable Redis (a lease's share may be shorter).
MAX_RETRY_FOR = 10.0
#: Waits between retries: 50 ms doubling up to 0.5 s, full jitter (``_retry``'s arithmetic).
_WAITS = RetryPolicy(initial_wait=0.05, max_wait=0.5)
_SCHEMES = ("redis", "rediss", "unix")
_SCHEME_RULE = "must be a redis://, rediss:// or unix:// URL or a redis.asyncio.Redis client"

#: Lua: ``now``, the Redis server's time in ms (one clock for every machine of a fleet).
LUA_NOW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""


def lua_renew(*, zset: str, ttl: str, first: int, held: str) -> str:
    """Lua renewing leases: for each ``ARGV[first..]`` member still ``held`` (a Lua condition
    on ``member``), push its score in ``zset`` to ``now + ttl``; returns one 1 (renewed) or 0
    (lost) per member. Needs ``now`` (`LUA_NOW`)."""
    return f"""
local out = {{}}
for i = {first}, #ARGV do
  local member = ARGV[i]
  if {held} then
    redis.call('ZADD', {zset}, 'XX', now + tonumber({ttl}), member)
    out[#out + 1] = 1
  else
    out[#out + 1] = 0
  end
end
return out
"""


def retry_budget(lease_ttl: float) -> float:
    """How long to retry an unreachable Redis for leases of ``lease_ttl`` seconds: a quarter
    of it (renewals every third plus this still land before two thirds), at most 10 s."""
    return min(MAX_RETRY_FOR, lease_ttl / 4)


def check_redis(field: str, redis: object) -> None:
    """InvalidRequestError unless ``redis`` is a usable Redis URL or a redis.asyncio client.

    A URL's scheme, host, port and database are checked here, at construction, with the
    rules redis-py would apply at first use (when redis is installed).
    """
    if not isinstance(redis, str):
        if not _is_client(redis):
            raise check.fail(field, f"{_SCHEME_RULE}, got {type(redis).__name__}")
        return
    parts = urlsplit(redis)
    if parts.scheme not in _SCHEMES:
        raise check.fail(field, f"{_SCHEME_RULE}, got {where(redis)}")
    try:
        port = parts.port
    except ValueError:
        raise check.fail(field, f"has no valid port (1-65535): {where(redis)}") from None
    if port == 0:
        raise check.fail(field, f"has no valid port (1-65535): {where(redis)}")
    if parts.scheme == "unix":
        if not parts.path:
            raise check.fail(field, "must name a socket path: unix:///path/to/socket")
    elif parts.path.strip("/") and not parts.path.strip("/").isdigit():
        raise check.fail(field, f"must end in a database number (/0): {where(redis)}")
    try:
        from redis.asyncio.connection import parse_url
    except ImportError:  # redis is not installed: first use says so
        return
    try:
        parse_url(redis)
    except (ValueError, TypeError) as exc:
        raise check.fail(field, f"is not a valid Redis URL ({exc})") from None


def _is_client(redis: object) -> bool:
    try:
        import redis.asyncio as aioredis
    except ImportError:
        return False
    return isinstance(redis, aioredis.Redis)


def where(redis: object) -> str:
    """Where Redis is, for messages: the URL without the password it may carry."""
    if not isinstance(redis, str):
        return "<redis client>"
    parts = urlsplit(redis)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"'{parts.scheme}://{parts.hostname or ''}{port}{parts.path}'"


async def renew_periodically(period: float, renew: Callable[[], Awaitable[bool]]) -> None:
    """Call ``renew`` every ``period`` seconds until it returns False (nothing left to hold)
    or the task is cancelled; the leases' holders say what renewing means for them."""
    while True:
        await anyio.sleep(period)
        if not await renew():
            return


class RedisLink:
    """One user's Redis: the client (made from a URL, or given), its registered scripts, and
    calls retried through brief outages.

    ``unavailable`` makes the typed error raised once a call has retried for ``retry_for``
    seconds (``LimiterUnavailableError``, ``CoordinatorUnavailableError``). A client made
    from a URL belongs to the event loop that made it: a call from another loop makes its own.
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        scripts: Mapping[str, str],
        *,
        retry_for: float,
        unavailable: Callable[[str], RedisUnavailableError],
    ) -> None:
        self._redis = redis
        self._sources = dict(scripts)
        self.retry_for = retry_for
        self._unavailable = unavailable
        self._client: aioredis.Redis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.scripts: dict[str, AsyncScript] = {}
        self.errors: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError)
        self._transient: tuple[type[BaseException], ...] = (OSError, asyncio.TimeoutError)
        self._down = False  # the last call gave up: try once, without waiting, until one works
        self.failures = 0
        """Attempts that failed so far (a caller can tell that a call of its was retried)."""

    def __repr__(self) -> str:
        return f"RedisLink({where(self._redis)})"

    @property
    def connected(self) -> bool:
        """Whether a client is open on the running event loop."""
        return self._client is not None and self._loop is _running_loop()

    def client(self) -> aioredis.Redis:
        """The Redis client for the running event loop (made from the URL on first use)."""
        loop = _running_loop()
        if self._client is None or self._loop is not loop:
            import redis.asyncio
            from redis import exceptions

            self.errors = (exceptions.RedisError, OSError, asyncio.TimeoutError)
            self._transient = (
                exceptions.ConnectionError,  # refused, reset, and BusyLoadingError (restarting)
                exceptions.TimeoutError,
                exceptions.ReadOnlyError,  # a failover under way
                exceptions.TryAgainError,
                OSError,
                asyncio.TimeoutError,
            )
            client = self._redis
            if isinstance(client, str):
                client = redis.asyncio.Redis.from_url(
                    client, socket_connect_timeout=CONNECT_TIMEOUT, socket_timeout=SOCKET_TIMEOUT
                )
            self._client, self._loop = client, loop
            self.scripts = {
                name: client.register_script(source) for name, source in self._sources.items()
            }
        return self._client

    async def script(self, name: str, keys: list[str], args: list[str | int]) -> Any:
        """Run the registered script ``name``, retried through a brief outage."""
        return await self.call(lambda _: self.scripts[name](keys=keys, args=args))

    async def call(self, command: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """``await command(client)``, retried while Redis is unreachable for up to
        ``retry_for`` seconds; the typed unavailable error after that (or for any other
        Redis error, which retrying would not cure)."""
        deadline = anyio.current_time() + (0.0 if self._down else self.retry_for)
        attempt = 0
        while True:
            try:
                result = await command(self.client())
            except self.errors as exc:
                self.failures += 1
                left = deadline - anyio.current_time()
                # A first attempt that outlasted the whole budget (the process was paused, a
                # laptop lid, SIGSTOP, while it waited for an answer) gets one more try: the
                # outage, if any, was never retried.
                stalled = attempt == 0 and not self._down
                if not isinstance(exc, self._transient) or (left <= 0 and not stalled):
                    self._down = isinstance(exc, self._transient)
                    how = "unreachable" if self._down else "failed"
                    raise self._unavailable(f"Redis at {where(self._redis)} {how}: {exc}") from exc
                wait = max(0.0, min(left, _WAITS.wait_for(exc, attempt)))
                logger.debug("Redis at %s: %s; retrying in %.2fs", where(self._redis), exc, wait)
                attempt += 1
                await anyio.sleep(wait)
            else:
                self._down = False
                return result

    async def aclose(self) -> None:
        """Close the client made from a URL (on its own loop); a given client stays open."""
        client, loop, self._client, self._loop = self._client, self._loop, None, None
        if client is not None and isinstance(self._redis, str) and loop is _running_loop():
            await client.aclose()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None

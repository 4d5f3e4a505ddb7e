"""Retries: the only module that imports ``backoff`` (it has had no release since 2022).

Policy (the guarantee users rely on: ``docs/reference/guarantees.md``): up to ``max_retries``
resends on connection errors, timeouts, 408, 429 and any 5xx, waiting 0.5 s doubling up to 8 s
with full jitter, or the server's ``Retry-After`` (on a 429, a 503 or any other) when it gives
one. A Retry-After above ``retry_after_cap`` raises at once.
A request that is not idempotent (creating a video, starting a render) is resent only when the
server certainly did not process it: a 429, or a connection that could not be opened. GET, PUT,
DELETE and ``POST /assets`` (the server answers a duplicate upload with the existing asset) are
idempotent; every other POST is not (the resource passes ``idempotent=`` to the client).
"""

from __future__ import annotations

import logging
import random
import warnings
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import backoff

from . import errors
from ._seam import Request, Response
from ._status import parse_retry_after

__all__ = ["RetryPolicy", "resender", "with_retries"]

logger = logging.getLogger("argil_async")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry; ``wait_scale=0`` turns the waits off (for tests)."""

    max_retries: int = 2
    initial_wait: float = 0.5
    max_wait: float = 8.0
    retry_after_cap: float = 60.0
    wait_scale: float = 1.0

    def should_retry(self, exc: BaseException, *, idempotent: bool) -> bool:
        """Whether ``exc`` may be retried for a request that is (or is not) idempotent."""
        if isinstance(exc, errors.APIStatusError):
            status = exc.status_code
            # A 429 was not acted on, so even a render may be resent; other statuses may have been.
            wanted = status == 429 or (idempotent and (status == 408 or status >= 500))
            retry_after = _retry_after(exc)
            return wanted and (retry_after is None or retry_after <= self.retry_after_cap)
        if isinstance(exc, errors.APIConnectionError):
            return idempotent or not exc.maybe_sent
        return False

    def wait_for(self, exc: BaseException, attempt: int) -> float:
        """Seconds to sleep before retry number ``attempt`` (0-based) after ``exc``."""
        retry_after = _retry_after(exc)
        if retry_after is not None:
            return float(retry_after) * self.wait_scale
        ceiling = min(self.max_wait, self.initial_wait * 2**attempt)
        return random.uniform(0, ceiling) * self.wait_scale


def _retry_after(exc: BaseException) -> float | None:
    """The server's Retry-After, in seconds, from a 429 or any other status error."""
    if isinstance(exc, errors.RateLimitError):
        return exc.retry_after
    if isinstance(exc, errors.APIStatusError):
        return parse_retry_after(exc.headers.get("Retry-After"))
    return None


def _waits(policy: RetryPolicy) -> Generator[float, BaseException | None, None]:
    """A backoff wait generator: backoff sends each failure in, we yield the sleep for it."""
    attempt = 0
    exc = yield 0.0
    while True:
        delay = policy.wait_for(exc, attempt) if exc is not None else 0.0
        attempt += 1
        exc = yield delay


def with_retries(
    send: Callable[[Request], Awaitable[Response]], policy: RetryPolicy
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap ``send`` (which raises ArgilError subclasses) in the retry policy.

    Every request goes through backoff, but a request that succeeds first time (nearly all)
    skips backoff's bookkeeping, about 5 us of CPU (``benchmarks/bench_retry.py``): the first
    attempt is made here, and only a retryable failure starts backoff, which is handed that
    failure to raise as its own first attempt (``replay``). backoff thus sees the very sequence
    it would have made itself; a test checks the two paths agree on every failure sequence.
    (The client makes the first attempt in a coroutine of its own and calls `resender()`'s
    function itself, one coroutine fewer per request.)
    """
    if policy.max_retries == 0:
        return send
    resend = resender(send, policy)

    async def dispatch(request: Request) -> Response:
        try:
            return await send(request)
        except errors.ArgilError as exc:
            failure = exc  # resent outside this handler: no retry's error chains onto it
        return await resend(request, failure)

    return dispatch


def resender(
    send: Callable[[Request], Awaitable[Response]], policy: RetryPolicy
) -> Callable[[Request, errors.ArgilError], Awaitable[Response]]:
    """What follows a first attempt's ``failure``: raise it when the policy gives up on it at
    once, else backoff's resends of ``send``, handed that failure as their first attempt."""
    safe = _retrying(send, policy, idempotent=True)
    unsafe = _retrying(send, policy, idempotent=False)

    def resend(request: Request, failure: errors.ArgilError) -> Awaitable[Response]:
        if not policy.should_retry(failure, idempotent=request.idempotent):
            raise failure
        return (safe if request.idempotent else unsafe)(request, iter([failure]))

    return resend


def _retrying(
    send: Callable[[Request], Awaitable[Response]], policy: RetryPolicy, *, idempotent: bool
) -> Callable[[Request, Iterator[errors.ArgilError]], Awaitable[Response]]:
    """``send`` under backoff; each attempt first raises what ``replay`` still holds, if any."""

    async def attempt(request: Request, replay: Iterator[errors.ArgilError]) -> Response:
        failure = next(replay, None)
        if failure is not None:
            raise failure
        return await send(request)

    def giveup(exc: Exception) -> bool:
        return not policy.should_retry(exc, idempotent=idempotent)

    def log_retry(details: Any) -> None:
        request = details["args"][0]
        logger.warning(
            "retrying %s %s in %.2fs after %s (attempt %d of %d)",
            request.method,
            request.path,
            details["wait"],
            type(details.get("exception")).__name__,
            details["tries"],
            policy.max_retries + 1,
        )

    with warnings.catch_warnings():
        # backoff 2.2 calls asyncio.iscoroutinefunction while decorating, deprecated in 3.14.
        warnings.simplefilter("ignore", DeprecationWarning)
        retrying: Callable[[Request, Iterator[errors.ArgilError]], Awaitable[Response]] = (
            backoff.on_exception(
                _waits,
                errors.ArgilError,
                max_tries=policy.max_retries + 1,
                giveup=giveup,
                jitter=None,
                on_backoff=log_retry,
                logger=None,
                policy=policy,
            )(attempt)
        )
    return retrying

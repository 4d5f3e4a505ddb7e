"""Waiting for server-side work (training, processing, rendering) with a deadline.

Polls back off (x1.5 up to ten times the first interval, at most 30 s), sleep on the event
loop so that cancelling the caller cancels the wait, and always end with the finished object,
a :class:`GenerationFailedError`, or a :class:`WaitTimeoutError` carrying the last object seen.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from typing import Any, TypeVar

import anyio

from .errors import GenerationFailedError, InvalidRequestError, WaitTimeoutError

__all__ = ["wait_for_status"]

T = TypeVar("T")


async def wait_for_status(
    fetch: Callable[[], Awaitable[T]],
    *,
    done: Collection[str],
    failed: Collection[str],
    timeout: float,
    poll_interval: float,
    what: str,
    is_success: Callable[[T], bool] = lambda _: True,
) -> T:
    """Poll ``fetch`` until the object's ``status`` is in ``done`` (success) or ``failed``.

    Any other status, known or not, counts as still in progress.
    """
    _check_positive("timeout", timeout)
    _check_positive("poll_interval", poll_interval)
    deadline = anyio.current_time() + timeout
    interval, ceiling = poll_interval, min(30.0, poll_interval * 10)
    last: T | None = None
    while True:
        last = await fetch()
        status = _status(last)
        if status in failed or (status in done and not is_success(last)):
            raise GenerationFailedError(f"{what} ended with status {status}", resource=last)
        if status in done:
            return last
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            raise WaitTimeoutError(f"{what} still {status} after {timeout:g} s", last=last)
        await anyio.sleep(min(interval, remaining))
        interval = min(ceiling, interval * 1.5)


def _status(obj: Any) -> str | None:
    status = getattr(obj, "status", None)
    return status if isinstance(status, str) else None


def _check_positive(field: str, value: float) -> None:
    if not value > 0:
        raise InvalidRequestError(field, f"must be greater than 0 seconds, got {value!r}")

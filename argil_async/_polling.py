"""Waiting for server-side work (training, processing, rendering) with a deadline.

Polls back off (x1.5 up to ten times the first interval, at most 30 s), sleep on the event
loop so that cancelling the caller cancels the wait, and always end with the finished object,
a [`GenerationFailedError`][argil_async.errors.GenerationFailedError], or a
[`WaitTimeoutError`][argil_async.errors.WaitTimeoutError] carrying the last object seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

import anyio

from ._validation import seconds
from .errors import GenerationFailedError, WaitTimeoutError

__all__ = ["DurationEstimate", "Goal", "Hooks", "VideoEventSource", "wait_for_status"]

T = TypeVar("T")


class DurationEstimate(Protocol):
    """How long some work usually takes, learnt as it is seen (the asset limiter is one)."""

    @property
    def expected_processing(self) -> float | None: ...

    def learn(self, duration: float) -> None: ...


class VideoEventSource(Protocol):
    """What ``videos.wait_until_done(receiver=...)`` and ``videos.generate`` listen to.

    ``argil_async.events.WebhookReceiver`` is one (its events are ``events.VideoEvent``);
    anything else that can wait for a video's event (one fed by a message bus shared by all
    workers, say) can stand in for it. The waiters read nothing from the event: its arrival
    ends the current sleep, and one GET then confirms the video's status. Exported as
    ``argil_async.events.VideoEventSource``; it lives here so that the client, which only
    waits, never imports the webhook package.
    """

    async def wait_for_video(self, video_id: str, *, timeout: float | None = None) -> object:
        """Return the success or failure event of ``video_id`` once it has arrived."""
        ...


def _always(_: object) -> bool:
    return True


@dataclass(frozen=True)
class Goal(Generic[T]):
    """What ends a wait: a status in ``done`` (a success if ``is_success`` agrees) or ``failed``.

    Any other status, known or not, counts as still in progress; ``what`` names the object in
    errors. Example: ``Goal("avatar a1", done=("IDLE",), failed=AVATAR_FAILED_STATUSES)``.
    """

    what: str
    done: Collection[str]
    failed: Collection[str]
    is_success: Callable[[T], bool] = _always


@dataclass(frozen=True)
class Hooks(Generic[T]):
    """Who else takes part in a wait (each optional).

    ``estimate`` (the asset limiter) may know how long the work usually takes: polls are then
    made around that moment instead of backing off past it, and it is told the duration seen
    (the midpoint between the last poll that saw the work pending and the one that saw it end).
    ``seen`` is awaited with every object fetched. When ``wake`` completes (a webhook arrived),
    the sleep it interrupts ends and the next poll is made at once.
    """

    estimate: DurationEstimate | None = None
    seen: Callable[[T], Awaitable[None]] | None = None
    wake: asyncio.Future[Any] | None = None


async def wait_for_status(
    fetch: Callable[[], Awaitable[T]],
    goal: Goal[T],
    *,
    timeout: float,
    poll_interval: float,
    first: T | None = None,
    hooks: Hooks[T] | None = None,
) -> T:
    """Poll ``fetch`` until the object's ``status`` ends the wait as ``goal`` says.

    ``first`` is the object as just returned by the request that started the work, saving one
    poll. Example:

    ```python
    await wait_for_status(fetch, Goal("video v1", ("DONE",), ()), timeout=60, poll_interval=2)
    ```
    """
    timeout = seconds("timeout", timeout)
    poll_interval = seconds("poll_interval", poll_interval)
    hooks = hooks or Hooks()
    estimate = hooks.estimate
    started = anyio.current_time()
    deadline = started + timeout
    expected = estimate.expected_processing if estimate else None
    schedule = _Schedule(
        poll_interval, expected, learning=estimate is not None and expected is None
    )
    last: T | None = None
    pending_seen: float | None = None  # when a poll last saw the work still pending
    while True:
        if first is None:
            first = await _fetch_before(deadline, min(1.0, timeout / 10), fetch)
            if first is None:
                raise WaitTimeoutError(
                    f"{goal.what} still {_status(last)} after {timeout:g} s", last=last
                )
        last, first = first, None
        if hooks.seen is not None:
            await hooks.seen(last)
        status = _status(last)
        ended = status in goal.done or status in goal.failed
        if ended and estimate is not None and pending_seen is not None:
            estimate.learn((pending_seen + anyio.current_time() - started) / 2)
        if _succeeded(goal, last):
            return last
        pending_seen = anyio.current_time() - started
        remaining = deadline - anyio.current_time()
        if remaining <= 0:
            raise WaitTimeoutError(f"{goal.what} still {status} after {timeout:g} s", last=last)
        await _pause(min(schedule.next(anyio.current_time() - started), remaining), hooks.wake)


def _succeeded(goal: Goal[T], obj: T) -> bool:
    """Whether ``obj`` is done and a success; GenerationFailedError if it ended otherwise."""
    status = _status(obj)
    if status in goal.failed or (status in goal.done and not goal.is_success(obj)):
        raise GenerationFailedError(f"{goal.what} ended with status {status}", resource=obj)
    return status in goal.done


async def _fetch_before(
    deadline: float, grace: float, fetch: Callable[[], Awaitable[T]]
) -> T | None:
    """``fetch()``, or None if the deadline passes first: a hanging poll must not outlive it.

    The poll made as the last sleep ends at the deadline still gets ``grace`` to answer.
    """
    with anyio.move_on_after(max(deadline - anyio.current_time(), grace)):
        return await fetch()
    return None


async def _pause(seconds: float, wake: asyncio.Future[Any] | None) -> None:
    """Sleep ``seconds``, or less if ``wake`` completes meanwhile (only once: it stays done)."""
    if wake is None or wake.done():
        await anyio.sleep(seconds)
    else:
        await asyncio.wait({wake}, timeout=seconds)


class _Schedule:
    """Sleeps between polls: backing off x1.5 from ``poll_interval`` (at most 10x it, and 30 s),
    or, when the duration is expected, one poll at half of it (an estimate that is too long is
    corrected at once), then from just before the expected end in 3% steps, 5% past 1.1x, 15%
    past 1.3x, up to twice it. A slot is thus handed on within ~3% of the duration, for fewer
    polls than evenly spaced ones. While a duration is being learnt (an estimate that has seen
    nothing yet) the back-off is x1.25: the first wait's bracket times every later one.
    """

    def __init__(
        self, poll_interval: float, expected: float | None, learning: bool = False
    ) -> None:
        self.interval = poll_interval
        self.ceiling = min(30.0, poll_interval * 10)
        self.expected = expected
        self.growth = 1.25 if learning else 1.5

    def next(self, elapsed: float) -> float:
        expected = self.expected
        if expected is not None and elapsed < 2 * expected:
            if elapsed < 0.5 * expected:
                return 0.5 * expected - elapsed
            if elapsed < _NEAR_END * expected:
                return _NEAR_END * expected - elapsed
            step = 0.03 if elapsed < 1.1 * expected else 0.05 if elapsed < 1.3 * expected else 0.15
            return max(0.01, step * expected)
        sleep = self.interval
        self.interval = min(self.ceiling, self.interval * self.growth)
        return sleep


_NEAR_END = 0.955  # the fine polls start 1.5 steps before the expected end


def _status(obj: Any) -> str | None:
    status = getattr(obj, "status", None)
    return status if isinstance(status, str) else None

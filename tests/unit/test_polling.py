"""Waiters: their deadline holds even when a single poll is slow."""

from __future__ import annotations

from types import SimpleNamespace

import anyio
import pytest

from argil_async import WaitTimeoutError
from argil_async._polling import Goal, _Schedule, wait_for_status


async def test_deadline_bounds_a_poll_that_hangs():
    """A poll that hangs past the deadline ends in WaitTimeoutError on time, with the last seen."""
    polls = 0

    async def fetch() -> SimpleNamespace:
        nonlocal polls
        polls += 1
        if polls > 1:
            await anyio.sleep(30)  # a server that stopped answering
        return SimpleNamespace(status="GENERATING_VIDEO")

    started = anyio.current_time()
    with pytest.raises(WaitTimeoutError) as info:
        await wait_for_status(
            fetch, Goal("video v", done={"DONE"}, failed=set()), timeout=0.3, poll_interval=0.05
        )
    assert anyio.current_time() - started < 2
    assert info.value.last.status == "GENERATING_VIDEO"
    assert "after 0.3 s" in str(info.value)


def _poll_times(schedule: _Schedule, until: float) -> list[float]:
    elapsed, times = 0.0, []
    while elapsed < until:
        elapsed += schedule.next(elapsed)
        times.append(round(elapsed, 6))
    return times


def test_expected_duration_is_polled_closely_and_sparingly():
    """With a known duration: one poll at half of it, then 3% steps from just before its end."""
    times = _poll_times(_Schedule(0.5, 1.0), until=1.0)
    assert times[:2] == [0.5, 0.955]
    assert len(times) <= 4  # half, then the fine steps that reach the end
    assert times[-1] - 1.0 <= 0.03  # the end is seen within one 3% step


def test_a_duration_being_learnt_backs_off_gently():
    """An estimate with nothing seen yet backs off x1.25 (its first bracket times later waits);
    a wait without an estimate keeps the x1.5 back-off."""
    assert _poll_times(_Schedule(0.5, None, learning=True), until=1.5) == [0.5, 1.125, 1.90625]
    assert _poll_times(_Schedule(0.5, None), until=1.5) == [0.5, 1.25, 2.375]

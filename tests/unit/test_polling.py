"""Waiters: their deadline holds even when a single poll is slow."""

from __future__ import annotations

from types import SimpleNamespace

import anyio
import pytest

from argil_async import WaitTimeoutError
from argil_async._polling import Goal, wait_for_status


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

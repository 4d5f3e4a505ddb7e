"""RedisLink's bounded retry: a first attempt that outlasted its budget gets one more try."""

from __future__ import annotations

import anyio
import pytest

from argil_async._redis import RedisLink
from argil_async.errors import RedisUnavailableError


class _Down(RedisUnavailableError):
    """The typed error a user of the link raises."""


def _link(retry_for: float) -> RedisLink:
    # A URL nothing listens on: the commands below never use the client they are given.
    return RedisLink("redis://127.0.0.1:9/0", {}, retry_for=retry_for, unavailable=_Down)


async def test_a_stalled_first_attempt_is_tried_once_more():
    """An answer that timed out after the budget ran out (a paused worker) is retried once."""
    link = _link(retry_for=0.05)
    calls = 0

    async def command(_client: object) -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await anyio.sleep(0.1)  # longer than the whole budget
            raise TimeoutError("Timeout reading from socket")
        return "ok"

    assert await link.call(command) == "ok"
    assert (calls, link.failures) == (2, 1)


async def test_a_redis_that_stays_down_still_gives_up():
    """The extra try is one: a Redis still unreachable raises the typed error."""
    link = _link(retry_for=0.05)
    calls = 0

    async def command(_client: object) -> str:
        nonlocal calls
        calls += 1
        await anyio.sleep(0.06)
        raise ConnectionRefusedError("refused")

    with pytest.raises(_Down, match="unreachable"):
        await link.call(command)
    assert calls == 2
    calls = 0
    with pytest.raises(_Down):  # once down: one try, no wait, until one succeeds
        await link.call(command)
    assert calls == 1

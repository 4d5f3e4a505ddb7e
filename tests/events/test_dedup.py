"""De-duplication: derived keys for unsigned callbacks, and a Redis store shared by workers.

The Redis tests run against a real redis-server; the fleet test runs 2 real uvicorn workers.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis

from argil_async.errors import InvalidRequestError, WebhookError
from argil_async.events import (
    DedupStore,
    MemoryDedupStore,
    RedisDedupStore,
    WebhookReceiver,
)
from argil_async.events._signatures import sign

SIGNING = "whsec_" + base64.b64encode(b"dedup-signing-key-0123456789abcd").decode()
BOUND = 60.0  # seconds: a failure guard, never an expectation


def callback(video_id: str, event: str = "VIDEO_GENERATION_SUCCESS", **extra: Any) -> bytes:
    """An unsigned Argil v1 callback body."""
    data = {"videoId": video_id, "videoUrl": f"https://cdn/{video_id}.mp4", **extra}
    return json.dumps({"event": event, "data": data}).encode()


def signed(body: bytes, msg_id: str) -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = "v1," + sign(body, msg_id, stamp, SIGNING)
    return {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature}


# -- keys: what counts as the same delivery ------------------------------------------------


async def test_unsigned_callbacks_delivered_twice_are_dispatched_once():
    """20 unsigned callbacks, each delivered twice (no webhook-id): 20 dispatches."""
    receiver = WebhookReceiver("tok")
    seen: list[str] = []
    receiver.on(lambda event: seen.append(event.video_id))  # type: ignore[union-attr]
    for _ in range(2):
        for i in range(20):
            receiver.handle(callback(f"v{i}"), query={"token": "tok"})
    await receiver.aclose()
    assert (receiver.received, receiver.duplicates) == (20, 20)
    assert sorted(seen) == sorted(f"v{i}" for i in range(20))


async def test_derived_keys_tell_events_objects_and_statuses_apart():
    """Success vs failure, video vs avatar, another status: each is its own delivery."""
    receiver = WebhookReceiver("tok")
    bodies = [
        callback("x"),
        callback("x", "VIDEO_GENERATION_FAILED"),
        callback("x", status="DONE"),
        callback("x", status="FAILED"),
        json.dumps({"event": "AVATAR_TRAINING_SUCCESS", "data": {"avatarId": "x"}}).encode(),
        json.dumps({"event": "SOMETHING_NEW", "data": {"id": 1}}).encode(),
        json.dumps({"event": "SOMETHING_NEW", "data": {"id": 2}}).encode(),
    ]
    for body in bodies + bodies:
        receiver.handle(body, query={"token": "tok"})
    assert (receiver.received, receiver.duplicates) == (len(bodies), len(bodies))
    # the avatar failure's two names are one event
    for name in ("AVATAR_TRAINING_FAILED", "AVATAR_GENERATION_FAILED"):
        body = json.dumps({"event": name, "data": {"avatarId": "a"}}).encode()
        receiver.handle(body, query={"token": "tok"})
    assert receiver.received == len(bodies) + 1
    await receiver.aclose()


async def test_a_webhook_id_is_the_key_when_sent():
    """Signed deliveries are keyed by webhook-id: a new id is a new delivery, a resent one not."""
    receiver = WebhookReceiver(signing_secret=SIGNING)
    body = callback("v")
    receiver.handle(body, headers=signed(body, "msg_1"))
    receiver.handle(body, headers=signed(body, "msg_1"))
    receiver.handle(body, headers=signed(body, "msg_2"))
    assert (receiver.received, receiver.duplicates) == (2, 1)
    await receiver.aclose()


def test_memory_store_forgets_after_its_ttl_and_past_its_size():
    """The in-process store keeps max_keys keys, each for ttl seconds."""
    store = MemoryDedupStore(max_keys=2, ttl=300)
    assert [store.claim_now(k) for k in ("a", "a", "b", "c", "a")] == [
        True,
        False,
        True,
        True,
        True,  # "a" was pushed out by "b" and "c"
    ]
    store._keys["a"] = time.monotonic() - 1  # as if 300 s had passed
    store._keys.move_to_end("a", last=False)
    assert store.claim_now("a") is True


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: MemoryDedupStore(ttl=299), "ttl"),
        (lambda: RedisDedupStore("redis://h/0", ttl=float("nan")), "ttl"),
        (lambda: RedisDedupStore("http://h/0"), "redis"),
        (lambda: RedisDedupStore("redis://h:notaport/0"), "redis"),
        (lambda: RedisDedupStore(8080), "redis"),  # type: ignore[arg-type]
        (lambda: WebhookReceiver("t", dedup=object()), "dedup"),  # type: ignore[arg-type]
    ],
)
def test_bad_store_settings_are_invalid_request_errors(make: Any, field: str):
    """A TTL below the 5-minute signature tolerance, a bad URL or store: InvalidRequestError."""
    with pytest.raises(InvalidRequestError) as caught:
        make()
    assert caught.value.field == field


# -- the Redis store ---------------------------------------------------------------------


def test_the_redis_store_is_a_dedup_store(redis_url: str):
    """RedisDedupStore and MemoryDedupStore both satisfy the DedupStore protocol."""
    assert isinstance(RedisDedupStore(redis_url), DedupStore)
    assert isinstance(MemoryDedupStore(), DedupStore)


async def test_a_replay_after_a_restart_is_not_dispatched_again(redis_url: str, redis_name: str):
    """A new receiver (a restarted worker) on the same Redis store drops a replayed delivery."""
    body = callback("v-restart")
    headers = signed(body, "msg_restart")
    first = WebhookReceiver(
        signing_secret=SIGNING, dedup=RedisDedupStore(redis_url, prefix=redis_name)
    )
    await first.ahandle(body, headers=headers)
    await first.aclose()
    restarted = WebhookReceiver(
        signing_secret=SIGNING, dedup=RedisDedupStore(redis_url, prefix=redis_name)
    )
    await restarted.ahandle(body, headers=headers)  # answered (200), not dispatched
    await restarted.ahandle(callback("v-other"), headers=signed(callback("v-other"), "msg_new"))
    assert (restarted.received, restarted.duplicates) == (1, 1)
    await restarted.aclose()


async def test_keys_expire_after_the_ttl_in_redis(redis_url: str, redis_name: str):
    """Each key is set with SET NX EX ttl: one key per delivery, expiring within ttl seconds."""
    client = aioredis.Redis.from_url(redis_url)
    store = RedisDedupStore(client, ttl=600, prefix=redis_name)
    receiver = WebhookReceiver("tok", dedup=store)
    await receiver.ahandle(callback("v"), query={"token": "tok"})
    await receiver.ahandle(callback("v"), query={"token": "tok"})
    keys = await client.keys(f"{redis_name}*")
    assert len(keys) == 1
    assert 0 < await client.ttl(keys[0]) <= 600
    await receiver.aclose()  # a client given to the store stays open
    assert await client.ping()
    await client.aclose()


async def test_a_claim_retried_after_a_lost_answer_is_still_the_first(
    redis_url: str, redis_name: str
):
    """The claim script run twice with one token (its first answer lost) says "new" both times;
    another token says "seen"."""
    store = RedisDedupStore(redis_url, prefix=redis_name)
    keys, args = [f"{redis_name}k"], ["token-1", 600]
    assert await store._link.script("CLAIM", keys, args) == 1
    assert await store._link.script("CLAIM", keys, args) == 1  # the retry of the same claim
    assert await store._link.script("CLAIM", keys, ["token-2", 600]) == 0
    await store.aclose()


async def test_redis_down_answers_503_and_dispatches_nothing(redis_name: str):
    """With the store unreachable a delivery is refused 503 (the sender retries), not dispatched."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    receiver = WebhookReceiver("tok", dedup=RedisDedupStore(f"redis://127.0.0.1:{port}/0"))
    with pytest.raises(WebhookError) as caught:
        await receiver.ahandle(callback("v"), query={"token": "tok"})
    assert (caught.value.status_code, caught.value.reason) == (503, "unavailable")
    assert receiver.received == 0
    assert receiver.rejected == {"unavailable": 1}
    await receiver.aclose()


async def test_a_duplicate_ends_local_waits_but_runs_no_handler_again(
    redis_url: str, redis_name: str
):
    """Worker B gets the copy worker A dispatched: B's wait for the video ends, B's handler
    and event stream get nothing; A's handler ran once."""
    a = WebhookReceiver("tok", dedup=RedisDedupStore(redis_url, prefix=redis_name))
    b = WebhookReceiver("tok", dedup=RedisDedupStore(redis_url, prefix=redis_name))
    ran: list[str] = []
    a.on(lambda event: ran.append("a"))
    b.on(lambda event: ran.append("b"))
    stream = b.events()
    waiting = asyncio.create_task(b.wait_for_video("v-both", timeout=BOUND))
    await asyncio.sleep(0)
    await a.ahandle(callback("v-both"), query={"token": "tok"})
    await b.ahandle(callback("v-both"), query={"token": "tok"})
    assert (await waiting).video_id == "v-both"
    await a.aclose()
    await b.aclose()
    assert ran == ["a"]
    assert [event async for event in stream] == []
    assert (a.received, b.received, b.duplicates) == (1, 0, 1)


class BrokenStore:
    """A store of the user's own that fails."""

    async def claim(self, key: str) -> bool:
        raise RuntimeError("database is down")

    async def aclose(self) -> None:
        return None


async def test_a_failing_custom_store_answers_503_and_dispatches_nothing(
    caplog: pytest.LogCaptureFixture,
):
    """Any exception from a user's store is a 503 WebhookError (logged), not a 500."""
    receiver = WebhookReceiver("tok", dedup=BrokenStore())
    ran: list[object] = []
    receiver.on(ran.append)
    with pytest.raises(WebhookError) as caught:
        await receiver.ahandle(callback("v"), query={"token": "tok"})
    assert (caught.value.status_code, caught.value.reason) == (503, "unavailable")
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert "database is down" in caplog.text
    await receiver.aclose()
    assert ran == []
    assert receiver.rejected == {"unavailable": 1}


async def test_sync_handle_with_a_shared_store_says_to_use_ahandle(redis_url: str):
    """handle() cannot await Redis: it raises InvalidRequestError naming ahandle()."""
    receiver = WebhookReceiver("tok", dedup=RedisDedupStore(redis_url))
    with pytest.raises(InvalidRequestError, match="ahandle"):
        receiver.handle(callback("v"), query={"token": "tok"})
    await receiver.aclose()


# -- 2 uvicorn workers --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
async def test_two_uvicorn_workers_dispatch_each_delivery_once(
    redis_url: str, redis_name: str, tmp_path: Path
):
    """2 workers + Redis: 100 signed messages sent twice -> 100 dispatches; 20 unsigned
    callbacks delivered twice -> 20 dispatches (both copies sent at once, to race)."""
    log = tmp_path / "dispatches.log"
    port = free_port()
    env = {
        **os.environ,
        "DEDUP_REDIS_URL": redis_url,
        "DEDUP_PREFIX": redis_name,
        "DISPATCH_LOG": str(log),
        "ARGIL_WEBHOOK_SECRET": "fleet-token",
        "ARGIL_WEBHOOK_SIGNING_SECRET": SIGNING,
    }
    server = subprocess.Popen(
        [
            sys.executable, "-m", "uvicorn", "dedup_app:app", "--app-dir",
            str(Path(__file__).parent), "--workers", "2", "--port", str(port),
            "--host", "127.0.0.1", "--no-access-log", "--log-level", "warning",
        ],
        env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        timeout = aiohttp.ClientTimeout(total=BOUND)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for _ in range(int(BOUND * 10)):  # until a worker answers
                try:
                    async with session.get(url) as response:
                        if response.status == 405:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)

            async def post(body: bytes, headers: dict[str, str], query: str = "") -> int:
                # a new connection each time, so the workers share the load
                async with (
                    aiohttp.ClientSession(timeout=timeout) as own,
                    own.post(url + query, data=body, headers=headers) as response,
                ):
                    return response.status

            sends = []
            for i in range(100):
                body = callback(f"signed-{i}")
                headers = signed(body, f"msg_{uuid.uuid4().hex}")
                sends += [post(body, headers), post(body, headers)]
            for i in range(20):
                body = callback(f"unsigned-{i}")
                sends += [
                    post(body, {}, "?token=fleet-token"),
                    post(body, {}, "?token=fleet-token"),
                ]
            statuses = await asyncio.gather(*sends)
        assert Counter(statuses) == {200: 240}
    finally:
        server.send_signal(signal.SIGINT)  # graceful: each worker closes its receiver
        server.wait(timeout=BOUND)
    lines = log.read_text().splitlines()
    subjects = Counter(line.split()[2] for line in lines)
    assert len(lines) == 120, Counter(line.split()[0] for line in lines)
    assert set(subjects) == {f"signed-{i}" for i in range(100)} | {
        f"unsigned-{i}" for i in range(20)
    }
    assert set(subjects.values()) == {1}

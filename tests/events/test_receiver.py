"""Tests for WebhookReceiver, over real HTTP on a loopback port."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from argil_async.errors import InvalidRequestError, WaitTimeoutError
from argil_async.events import (
    AvatarTrainingSucceeded,
    Event,
    UnknownEvent,
    VideoGenerationFailed,
    VideoGenerationSucceeded,
    WebhookReceiver,
)
from argil_async.events._receiver import WebhookReceiver as ReceiverImpl

SECRET = "s3cret-Token_value"


def video_body(video_id: str, event: str = "VIDEO_GENERATION_SUCCESS") -> bytes:
    data = {"videoId": video_id, "videoName": "n", "videoUrl": "https://x/v.mp4", "extras": "{}"}
    return json.dumps({"event": event, "data": data}).encode()


def avatar_body(avatar_id: str) -> bytes:
    data = {"avatarId": avatar_id, "voiceId": "voice", "avatarName": "Ann"}
    return json.dumps({"event": "AVATAR_TRAINING_SUCCESS", "data": data}).encode()


@dataclass
class Harness:
    receiver: WebhookReceiver
    session: aiohttp.ClientSession
    base_url: str

    @property
    def url(self) -> str:
        return self.receiver.callback_url(self.base_url)

    async def post(self, body: Any, url: str | None = None) -> int:
        async with self.session.post(url or self.url, data=body) as response:
            await response.read()
            return response.status


async def start_app(receiver: WebhookReceiver) -> tuple[web.AppRunner, str]:
    app = web.Application()
    receiver.mount(app)
    runner = web.AppRunner(app, access_log_class=WebhookReceiver.access_log_class)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}"


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    receiver = WebhookReceiver(SECRET, max_body_size=1024)
    runner, base_url = await start_app(receiver)
    try:
        async with aiohttp.ClientSession() as session:
            yield Harness(receiver, session, base_url)
    finally:
        await runner.cleanup()


async def test_event_before_wait(harness: Harness) -> None:
    """A good token gets 200, and a later wait_for_video returns the buffered event."""
    assert await harness.post(video_body("v1")) == 200
    event = await harness.receiver.wait_for_video("v1", timeout=1)
    assert isinstance(event, VideoGenerationSucceeded)
    assert (event.video_id, event.video_url) == ("v1", "https://x/v.mp4")
    assert harness.receiver.received == 1
    assert harness.receiver.rejected == {}


async def test_event_after_wait(harness: Harness) -> None:
    """A wait started before the delivery resolves when it arrives."""
    waiter = asyncio.create_task(harness.receiver.wait_for_video("v2", timeout=5))
    await asyncio.sleep(0)
    assert not waiter.done()
    assert await harness.post(video_body("v2", "VIDEO_GENERATION_FAILED")) == 200
    event = await waiter
    assert isinstance(event, VideoGenerationFailed)
    assert event.video_id == "v2"


async def test_several_waiters_for_one_id(harness: Harness) -> None:
    """Every waiter on the same id gets the event; other ids keep waiting."""
    waiters = [asyncio.create_task(harness.receiver.wait_for_video("v3")) for _ in range(3)]
    other = asyncio.create_task(harness.receiver.wait_for_video("other", timeout=0.2))
    await asyncio.sleep(0)
    assert await harness.post(video_body("v3")) == 200
    results = await asyncio.gather(*waiters)
    assert {event.video_id for event in results} == {"v3"}
    with pytest.raises(WaitTimeoutError):
        await other


async def test_wait_for_avatar(harness: Harness) -> None:
    """wait_for_avatar resolves on AVATAR_TRAINING_SUCCESS and ignores video ids."""
    waiter = asyncio.create_task(harness.receiver.wait_for_avatar("a1", timeout=5))
    await asyncio.sleep(0)
    assert await harness.post(video_body("a1")) == 200
    assert not waiter.done()
    assert await harness.post(avatar_body("a1")) == 200
    event = await waiter
    assert event == AvatarTrainingSucceeded(
        avatar_id="a1", voice_id="voice", avatar_name="Ann", raw=event.raw
    )


@pytest.mark.parametrize("query", ["", "?token=wrong", "?token=", f"?token={SECRET}x", "?t=1"])
async def test_bad_token_is_401_and_body_not_parsed(harness: Harness, query: str) -> None:
    """A missing or wrong token gets 401 before the body is looked at."""
    url = harness.base_url + harness.receiver.path + query
    assert await harness.post(b"not even json", url=url) == 401
    assert harness.receiver.rejected == {"unauthorized": 1}
    assert harness.receiver.received == 0


async def test_non_ascii_token_is_401(harness: Harness) -> None:
    """A non-ASCII token is compared safely and refused."""
    url = harness.base_url + harness.receiver.path + "?token=%C3%A9t%C3%A9"
    assert await harness.post(video_body("v"), url=url) == 401


async def test_oversized_body_with_length_is_413(harness: Harness) -> None:
    """A declared Content-Length above max_body_size gets 413."""
    assert await harness.post(b"x" * 2048) == 413
    assert harness.receiver.rejected == {"too_large": 1}


async def test_oversized_chunked_body_is_413(harness: Harness) -> None:
    """A chunked body is cut off once it passes max_body_size."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(8):
            yield b" " * 512

    assert await harness.post(chunks()) == 413
    assert harness.receiver.rejected == {"too_large": 1}


async def test_small_chunked_body_is_accepted(harness: Harness) -> None:
    """A chunked body within the limit is read in full and accepted."""
    body = video_body("v-chunked")

    async def chunks() -> AsyncIterator[bytes]:
        yield body[:10]
        yield body[10:]

    assert await harness.post(chunks()) == 200
    assert (await harness.receiver.wait_for_video("v-chunked", timeout=1)).video_id == "v-chunked"


@pytest.mark.parametrize(
    "body", [b"{oops", b"[]", b'{"data": {}}', b'{"event": "AVATAR_TRAINING_FAILED"}']
)
async def test_bad_body_is_400(harness: Harness, body: bytes) -> None:
    """An authenticated but unparsable body gets 400 and is counted."""
    assert await harness.post(body) == 400
    assert harness.receiver.rejected == {"invalid_body": 1}
    assert harness.receiver.received == 0


async def test_unknown_event_is_accepted(harness: Harness) -> None:
    """An unknown event name is accepted (200) and dispatched as UnknownEvent."""
    seen: list[Event] = []
    harness.receiver.on(seen.append)
    assert await harness.post(b'{"event": "NEW_THING", "data": {"x": 1}}') == 200
    await harness.receiver.aclose()
    assert seen == [UnknownEvent(event="NEW_THING", data={"x": 1})]


async def test_wait_timeout(harness: Harness) -> None:
    """A wait with no event raises WaitTimeoutError, a TimeoutError, and leaves no waiter."""
    with pytest.raises(TimeoutError, match="video nope"):
        await harness.receiver.wait_for_video("nope", timeout=0.05)
    with pytest.raises(WaitTimeoutError):
        await harness.receiver.wait_for_avatar("nope", timeout=0)
    assert harness.receiver._waiters == {}


async def test_waiter_cancellation(harness: Harness) -> None:
    """Cancelling a waiter raises CancelledError, cleans up, and spares the other waiters."""
    cancelled = asyncio.create_task(harness.receiver.wait_for_video("v4"))
    kept = asyncio.create_task(harness.receiver.wait_for_video("v4", timeout=5))
    await asyncio.sleep(0)
    cancelled.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cancelled
    assert await harness.post(video_body("v4")) == 200
    assert (await kept).video_id == "v4"
    assert harness.receiver._waiters == {}


async def test_buffer_is_bounded() -> None:
    """Only the most recent max_buffered events are kept for late waiters."""
    receiver = WebhookReceiver(SECRET, max_buffered=2)
    runner, base_url = await start_app(receiver)
    try:
        async with aiohttp.ClientSession() as session:
            harness = Harness(receiver, session, base_url)
            for video_id in ("b1", "b2", "b3"):
                assert await harness.post(video_body(video_id)) == 200
    finally:
        await runner.cleanup()
    assert (await receiver.wait_for_video("b3", timeout=0)).video_id == "b3"
    assert (await receiver.wait_for_video("b2", timeout=0)).video_id == "b2"
    with pytest.raises(WaitTimeoutError):
        await receiver.wait_for_video("b1", timeout=0)


async def test_handler_exceptions_do_not_break_receiver(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """Failing sync and async handlers are logged and counted; others still run."""
    seen: list[str] = []

    def sync_boom(event: Event) -> None:
        raise ValueError("sync boom")

    async def async_boom(event: Event) -> None:
        raise RuntimeError("async boom")

    async def good(event: Event) -> None:
        seen.append(event.event)

    for handler in (sync_boom, async_boom, good):
        harness.receiver.on(handler)
    assert await harness.post(video_body("v5")) == 200
    assert await harness.post(video_body("v6")) == 200
    await harness.receiver.aclose()
    assert seen == ["VIDEO_GENERATION_SUCCESS"] * 2
    assert harness.receiver.handler_errors == 4
    assert "sync boom" in caplog.text
    assert "async boom" in caplog.text


async def test_slow_handler_does_not_delay_response(harness: Harness) -> None:
    """The 200 is sent while an async handler is still running."""
    release = asyncio.Event()
    started = asyncio.Event()

    @harness.receiver.on
    async def slow(event: Event) -> None:
        started.set()
        await release.wait()

    assert await asyncio.wait_for(harness.post(video_body("v7")), timeout=2) == 200
    await asyncio.wait_for(started.wait(), timeout=2)
    assert harness.receiver._tasks
    release.set()
    await harness.receiver.aclose()
    assert not harness.receiver._tasks


async def test_aclose_cancels_stuck_handlers(harness: Harness) -> None:
    """aclose cancels callbacks still running after its timeout."""
    cancelled = asyncio.Event()

    @harness.receiver.on
    async def stuck(event: Event) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    assert await harness.post(video_body("v8")) == 200
    await asyncio.sleep(0.01)
    await harness.receiver.aclose(timeout=0.01)
    assert cancelled.is_set()
    assert not harness.receiver._tasks


async def test_events_iterator(harness: Harness) -> None:
    """events() yields accepted deliveries in order and ends on aclose()."""
    stream = harness.receiver.events()
    assert await harness.post(video_body("e1")) == 200
    assert await harness.post(avatar_body("e2")) == 200
    await harness.receiver.aclose()
    got = [event async for event in stream]
    assert [event.event for event in got] == ["VIDEO_GENERATION_SUCCESS", "AVATAR_TRAINING_SUCCESS"]
    assert [event async for event in stream] == []


async def test_events_iterator_drops_oldest_when_full(harness: Harness) -> None:
    """A stream nobody reads keeps only the newest max_queued events."""
    stream = harness.receiver.events(max_queued=2)
    for video_id in ("f1", "f2", "f3"):
        assert await harness.post(video_body(video_id)) == 200
    await harness.receiver.aclose()
    got = [event async for event in stream]
    assert [event.video_id for event in got if isinstance(event, VideoGenerationSucceeded)] == [
        "f3"
    ]


async def test_serve_end_to_end(caplog: pytest.LogCaptureFixture) -> None:
    """serve() runs a standalone server whose URL accepts deliveries, then shuts down."""
    caplog.set_level(logging.DEBUG)
    receiver = WebhookReceiver()
    async with receiver.serve() as url, aiohttp.ClientSession() as session:
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith(f"/argil/webhook?token={receiver.secret}")
        waiter = asyncio.create_task(receiver.wait_for_avatar("a9", timeout=5))
        async with session.post(url, data=avatar_body("a9")) as response:
            assert response.status == 200
        assert (await waiter).avatar_id == "a9"
        async with session.post(url.split("?")[0], data=b"{}") as response:
            assert response.status == 401
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.post(url, data=b"{}"):
            pass
    assert receiver.received == 1
    assert receiver.rejected == {"unauthorized": 1}
    assert "/argil/webhook" in caplog.text
    assert receiver.secret not in caplog.text


async def test_serve_public_base_url() -> None:
    """serve(public_base_url=...) yields the public callback URL instead of the local one."""
    receiver = WebhookReceiver("tok")
    async with receiver.serve(public_base_url="https://hooks.example.com/app/") as url:
        assert url == "https://hooks.example.com/app/argil/webhook?token=tok"


async def test_logs_never_show_tokens(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Neither the secret nor a wrong token reaches the logs, access log included."""
    caplog.set_level(logging.DEBUG)
    assert await harness.post(video_body("v-log")) == 200
    wrong = harness.base_url + harness.receiver.path + "?token=WRONG-TOKEN-VALUE"
    assert await harness.post(b"{}", url=wrong) == 401
    assert await harness.post(b"{oops") == 400
    assert "rejected webhook delivery" in caplog.text
    assert SECRET not in caplog.text
    assert "WRONG-TOKEN-VALUE" not in caplog.text


async def test_secret_with_special_characters_round_trips() -> None:
    """A secret needing URL quoting still authenticates through callback_url()."""
    receiver = WebhookReceiver("a b&c/é+=?#")
    async with (
        receiver.serve() as url,
        aiohttp.ClientSession() as session,
        session.post(url, data=video_body("v-q")) as response,
    ):
        assert response.status == 200
    assert receiver.received == 1


def test_callback_url_forms() -> None:
    """callback_url handles trailing slashes, an existing query, and quotes the secret."""
    receiver = WebhookReceiver("a b&c", path="/hooks/argil")
    assert receiver.callback_url("https://x.io") == "https://x.io/hooks/argil?token=a+b%26c"
    assert receiver.callback_url("https://x.io//") == "https://x.io/hooks/argil?token=a+b%26c"
    assert (
        receiver.callback_url("https://x.io/base/?tenant=7#frag")
        == "https://x.io/base/hooks/argil?tenant=7&token=a+b%26c"
    )
    with pytest.raises(InvalidRequestError, match="public_base_url"):
        receiver.callback_url("x.io/path")


def test_generated_secret_and_repr() -> None:
    """A missing secret is generated (unique, URL-safe) and never shown by repr()."""
    first, second = WebhookReceiver(), WebhookReceiver()
    assert first.secret != second.secret
    assert len(first.secret) >= 40
    assert first.secret not in repr(first)
    assert "token" not in repr(first)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"secret": ""}, "secret"),
        ({"path": "argil"}, "path"),
        ({"max_body_size": 0}, "max_body_size"),
        ({"max_buffered": -1}, "max_buffered"),
    ],
)
def test_constructor_validation(kwargs: dict[str, Any], field: str) -> None:
    """Invalid constructor arguments raise InvalidRequestError naming the argument."""
    with pytest.raises(InvalidRequestError) as info:
        WebhookReceiver(**kwargs)
    assert info.value.field == field


def test_lazy_export_is_the_implementation() -> None:
    """argil_async.events.WebhookReceiver is the class from the private receiver module."""
    assert WebhookReceiver is ReceiverImpl

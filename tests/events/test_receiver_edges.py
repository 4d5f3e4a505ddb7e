"""Receiver edges: cut bodies, token + wrong signature, typed errors from public calls."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
import uvicorn
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argil_async.errors import InvalidRequestError, ResponseValidationError
from argil_async.events import Event, WebhookReceiver, parse_event
from argil_async.events._signatures import sign

SIGNING = "whsec_" + base64.b64encode(b"edge-signing-key-0123456789abcdef").decode()
fuzz = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def body_of(video_id: str) -> bytes:
    data = {"videoId": video_id, "videoUrl": "https://x/v.mp4"}
    return json.dumps({"event": "VIDEO_GENERATION_SUCCESS", "data": data}).encode()


def signed(body: bytes, msg_id: str = "msg_1") -> dict[str, str]:
    stamp = str(int(time.time()))
    signature = "v1," + sign(body, msg_id, stamp, SIGNING)
    return {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature}


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (bounded) for the server side to catch up; the bound is generous, never asserted."""
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
async def uvicorn_url() -> AsyncIterator[Callable[[WebhookReceiver], Awaitable[str]]]:
    """Serve a receiver's ASGI app under a real uvicorn on loopback; yield its base URL."""
    servers: list[tuple[uvicorn.Server, asyncio.Task[None]]] = []

    async def start(receiver: WebhookReceiver) -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(receiver.asgi, log_config=None, lifespan="off")
        server = uvicorn.Server(config)
        task = asyncio.create_task(server.serve(sockets=[sock]))
        servers.append((server, task))
        await until(lambda: server.started, "uvicorn to start")
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    yield start
    for server, task in servers:
        server.should_exit = True
        await task


async def send_cut(base_url: str, target: str, body: bytes, declared: int) -> bytes:
    """POST ``body`` with a Content-Length of ``declared``, then hang up; return any answer."""
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()
    if len(body) < declared:
        writer.write_eof()  # the client is gone mid-body
    answer = await reader.read()
    writer.close()
    return answer


@pytest.mark.parametrize("server", ["asgi", "aiohttp"])
async def test_a_body_cut_before_its_content_length_is_never_dispatched(
    server: str, uvicorn_url: Callable[[WebhookReceiver], Awaitable[str]]
):
    """A valid JSON prefix of a longer declared body is not dispatched; the whole body is."""
    receiver = WebhookReceiver("tok")
    whole = body_of("v-cut") + b" " * 64  # JSON is complete before the padding
    prefix = body_of("v-cut")
    if server == "asgi":
        base_url = await uvicorn_url(receiver)
        await send_cut(base_url, "/argil/webhook?token=tok", prefix, len(whole))
        await until(lambda: receiver.rejected.get("incomplete") == 1, "the refusal")
        await send_cut(base_url, "/argil/webhook?token=tok", whole, len(whole))
        await until(lambda: receiver.received == 1, "the whole delivery")
    else:
        async with receiver.serve() as url:
            base_url = url.partition("/argil")[0]
            await send_cut(base_url, "/argil/webhook?token=tok", prefix, len(whole))
            await until(lambda: receiver.rejected.get("incomplete") == 1, "the refusal")
            await send_cut(base_url, "/argil/webhook?token=tok", whole, len(whole))
            await until(lambda: receiver.received == 1, "the whole delivery")
    assert receiver.received == 1
    assert receiver.rejected == {"incomplete": 1}
    event = await receiver.wait_for_video("v-cut", timeout=5)
    assert event.video_id == "v-cut"
    await receiver.aclose()


@pytest.mark.parametrize("server", ["asgi", "aiohttp"])
async def test_a_valid_token_does_not_excuse_a_wrong_signature(
    server: str, uvicorn_url: Callable[[WebhookReceiver], Awaitable[str]]
):
    """Token + wrong signature: 401; token alone: 200; signature alone: 200 (over HTTP)."""
    receiver = WebhookReceiver("tok", signing_secret=SIGNING)
    body = body_of("v-sig")
    wrong = signed(body, "msg_w")
    wrong["webhook-signature"] = "v1," + sign(
        body + b" ", "msg_w", wrong["webhook-timestamp"], SIGNING
    )
    cases = [
        ("?token=tok", wrong, 401),
        ("?token=tok", {}, 200),
        ("", signed(body, "msg_s"), 200),
        ("?token=nope", signed(body, "msg_t"), 200),
        ("", {}, 401),
    ]

    async def run(base_url: str) -> list[int]:
        statuses = []
        async with aiohttp.ClientSession() as session:
            for query, headers, _ in cases:
                url = f"{base_url}/argil/webhook{query}"
                async with session.post(url, data=body, headers=headers) as response:
                    statuses.append(response.status)
        return statuses

    if server == "asgi":
        statuses = await run(await uvicorn_url(receiver))
    else:
        async with receiver.serve() as url:
            statuses = await run(url.partition("/argil")[0])
    assert statuses == [expected for _, _, expected in cases]
    assert receiver.rejected == {"unauthorized": 2}
    await receiver.aclose()


# -- typed errors from public calls (issue 18 item 7) -----------------------------------

anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.binary(max_size=40),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.text(max_size=60),
    st.text(st.characters(codec=None, categories=["Cs", "Cc", "Lu", "Po"]), max_size=20),
    st.builds(lambda s: f"http://{s}", st.text(max_size=30)),
    st.builds(lambda s: f"https://h:{s}/", st.text(max_size=8)),
)


@fuzz
@given(value=anything)
def test_callback_url_returns_a_url_or_raises_invalid_request(value: Any):
    """callback_url(anything): an http(s) URL string, or InvalidRequestError, never a builtin."""
    receiver = WebhookReceiver("tok")
    try:
        url = receiver.callback_url(value)
    except InvalidRequestError as exc:
        field = exc.field
    else:
        assert url.startswith(("http://", "https://"))
        assert "/argil/webhook?" in url
        assert url.endswith("token=tok")  # an existing query is kept before it
        url.encode()  # sendable
        return
    assert field == "public_base_url"


@pytest.mark.parametrize("value", [{"a": 1}, 8080, "http://[::1", "http://h:x/", "http://h\ud800/"])
def test_callback_url_cases_from_the_issue(value: Any):
    """The issue's inputs (a dict, an int) and broken URLs raise InvalidRequestError."""
    with pytest.raises(InvalidRequestError, match="public_base_url"):
        WebhookReceiver("tok").callback_url(value)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
envelopes = st.fixed_dictionaries(
    {"event": st.sampled_from(["VIDEO_GENERATION_SUCCESS", "AVATAR_TRAINING_FAILED", "X"])},
    optional={"data": json_values},
)
bodies = st.one_of(
    st.text(max_size=80),  # with lone surrogates too
    st.binary(max_size=80),
    envelopes,
    envelopes.map(lambda e: json.dumps(e, ensure_ascii=False)),
    envelopes.map(lambda e: json.dumps(e).encode()),
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
    st.builds(
        lambda extras: {
            "event": "VIDEO_GENERATION_SUCCESS",
            "data": {"videoId": "v", "extras": extras},
        },
        st.sampled_from([{1, 2}, object(), b"\xff", {"k": object()}]),
    ),
)


@fuzz
@given(body=bodies)
def test_parse_event_returns_an_event_or_raises_response_validation(body: Any):
    """parse_event(any text, bytes or mapping): an Event or ResponseValidationError only."""
    try:
        result: Event = parse_event(body)
    except ResponseValidationError:
        return
    assert isinstance(result.raw, dict)


def test_parse_event_lone_surrogate_from_the_issue():
    """parse_event('\\ud800') raises the documented ResponseValidationError."""
    with pytest.raises(ResponseValidationError):
        parse_event("\ud800")

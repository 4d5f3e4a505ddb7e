"""WebhookReceiver.serve() under slow clients: header and body timeouts, a connection cap.

Real sockets on loopback. The headline case runs the server in a child process limited to 128
open files (as in the issue) and holds 140 stalled connections while a valid delivery arrives.
Waits are bounded so a regression fails instead of hanging; no test asserts a duration.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import aiohttp
import pytest
import uvicorn
from aiohttp import web

from argil_async.errors import InvalidRequestError
from argil_async.events import WebhookReceiver

BOUND = 20.0  # seconds: a failure guard, never an expectation


def body_of(video_id: str) -> bytes:
    return json.dumps({"event": "VIDEO_GENERATION_SUCCESS", "data": {"videoId": video_id}}).encode()


def host_port(url: str) -> tuple[str, int]:
    host, _, port = url.removeprefix("http://").partition("/")[0].rpartition(":")
    return host, int(port)


async def stall(url: str, stage: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open a connection that stops mid-headers or mid-body, and leave it open."""
    host, port = host_port(url)
    reader, writer = await asyncio.open_connection(host, port)
    target = "/argil/webhook?token=tok"
    if stage == "headers":
        writer.write(f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Le".encode())
    else:
        body = body_of("v-stalled")
        head = f"POST {target} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(body)}\r\n\r\n"
        writer.write(head.encode() + body[:10])
    await writer.drain()
    return reader, writer


async def deliver(url: str, video_id: str) -> int:
    timeout = aiohttp.ClientTimeout(total=BOUND)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.post(url, data=body_of(video_id)) as response,
    ):
        return response.status


@pytest.fixture
async def fast_server() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    """A receiver served with sub-second timeouts and a cap of 8 connections."""
    receiver = WebhookReceiver("tok")
    async with receiver.serve(header_timeout=0.3, body_timeout=0.3, max_connections=8) as url:
        yield receiver, url
    await receiver.aclose()


@pytest.mark.parametrize("stage", ["headers", "body"])
async def test_a_stalled_connection_is_closed_after_its_timeout(
    fast_server: tuple[WebhookReceiver, str], stage: str
):
    """A client stopping mid-headers is hung up on; one stopping mid-body gets 408, then EOF."""
    receiver, url = fast_server
    reader, writer = await stall(url, stage)
    answer = await asyncio.wait_for(reader.read(), BOUND)  # EOF: the server closed it
    writer.close()
    if stage == "headers":
        assert answer == b""
        assert receiver.rejected == {}
    else:
        assert answer.startswith(b"HTTP/1.1 408")
        assert receiver.rejected == {"timeout": 1}
    assert receiver.received == 0
    assert await deliver(url, "v-after") == 200  # the server still serves


async def test_an_idle_keep_alive_connection_is_closed_too(
    fast_server: tuple[WebhookReceiver, str],
):
    """After an answer, a kept-alive connection that sends nothing more is closed."""
    receiver, url = fast_server
    host, port = host_port(url)
    reader, writer = await asyncio.open_connection(host, port)
    body = body_of("v-ka")
    head = (
        f"POST /argil/webhook?token=tok HTTP/1.1\r\nHost: h\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    answer = await asyncio.wait_for(reader.read(), BOUND)
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200")
    assert receiver.received == 1


async def test_past_the_cap_the_oldest_stalled_connection_makes_room(
    fast_server: tuple[WebhookReceiver, str],
):
    """With 8 allowed, 20 stalled connections (timeouts aside) never keep a delivery out."""
    receiver, url = fast_server
    stalled = [await stall(url, "headers" if i % 2 else "body") for i in range(20)]
    try:
        assert await deliver(url, "v-through") == 200
        event = await receiver.wait_for_video("v-through", timeout=BOUND)
    finally:
        for _, writer in stalled:
            writer.close()
    assert event.video_id == "v-through"


@pytest.mark.parametrize("server", ["asgi", "aiohttp-mount"])
async def test_a_stalled_body_times_out_under_uvicorn_and_a_mounted_aiohttp_app(server: str):
    """receiver.asgi (uvicorn has no body timeout) and mount() answer 408 to a stalled body."""
    receiver = WebhookReceiver("tok", body_timeout=0.3)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/argil/webhook?token=tok"
    if server == "asgi":
        config = uvicorn.Config(receiver.asgi, log_config=None, lifespan="off")
        uv = uvicorn.Server(config)
        task = asyncio.create_task(uv.serve(sockets=[sock]))
        while not uv.started:
            await asyncio.sleep(0.01)
    else:
        app = web.Application()
        receiver.mount(app)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.SockSite(runner, sock).start()
    try:
        reader, writer = await stall(url, "body")
        answer = await asyncio.wait_for(reader.read(), BOUND)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert await deliver(url, "v-after") == 200
    finally:
        if server == "asgi":
            uv.should_exit = True
            await task
        else:
            await runner.cleanup()
    assert receiver.rejected == {"timeout": 1}
    assert receiver.received == 1
    await receiver.aclose()


CHILD = textwrap.dedent(
    """
    import asyncio, resource, sys
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (128, hard))
    from argil_async.events import WebhookReceiver

    async def main():
        receiver = WebhookReceiver("tok")
        receiver.on(lambda event: print("dispatched", event.video_id, flush=True))
        # long timeouts: only the connection cap (default 100) can let the delivery in
        async with receiver.serve(header_timeout=120, body_timeout=120) as url:
            print(url, flush=True)
            await asyncio.sleep(3600)

    asyncio.run(main())
    """
)


@pytest.mark.slow  # a child process
async def test_a_delivery_gets_through_140_stalled_connections_at_a_128_file_limit():
    """The issue's case: 140 stalled connections, 128 files, a valid delivery is still taken."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert child.stdout is not None
    stalled: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
    try:
        url = (await asyncio.wait_for(child.stdout.readline(), BOUND)).decode().strip()
        for i in range(140):
            stalled.append(await stall(url, "headers" if i % 2 else "body"))
        assert await deliver(url, "v-ok") == 200
        line = await asyncio.wait_for(child.stdout.readline(), BOUND)
        assert line.decode().split() == ["dispatched", "v-ok"]
        assert child.returncode is None  # still serving
    finally:
        for _, writer in stalled:
            writer.close()
        child.kill()
        await child.wait()


@pytest.mark.parametrize(
    ("option", "value"),
    [("header_timeout", 0), ("body_timeout", float("nan")), ("max_connections", 0)],
)
async def test_serve_refuses_bad_limits(option: str, value: object):
    """Zero, NaN or negative limits are InvalidRequestError before anything listens."""
    receiver = WebhookReceiver("tok")
    with pytest.raises(InvalidRequestError) as caught:
        async with receiver.serve(**{option: value}):  # type: ignore[arg-type]
            pass
    assert caught.value.field == option

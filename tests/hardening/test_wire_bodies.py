"""Class 3: hostile response bodies end in a typed error, within max_response_size."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web
from wire_server import hostile_client

from argil_async import (
    APIConnectionError,
    APITimeoutError,
    ArgilError,
    AsyncArgil,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
    ResponseTooLargeError,
    ResponseValidationError,
    Timeout,
)

VOICES = b'[{"id": "v1", "name": "Anna"}]'


def _json(body: bytes, status: int = 200, **headers: str) -> web.Response:
    return web.Response(body=body, status=status, content_type="application/json", headers=headers)


def _bomb(size: int) -> bytes:
    """``size`` bytes of zeros, gzip-compressed (about a thousandth of the size)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(size >> 20)]
    return b"".join([*parts, packer.flush()])


async def test_deeply_nested_json_is_a_response_validation_error():
    """JSON nested 200 000 deep in a free-form field raises ResponseValidationError."""
    deep = b"[" * 200_000 + b"]" * 200_000
    video = b'{"id": "v1", "status": "DONE", "moments": [{"zoom": {"x": ' + deep + b"}}]}"

    async def handler(request: web.Request) -> web.Response:
        return _json(video)

    async with hostile_client(handler) as client:
        with pytest.raises(ResponseValidationError, match="nested too deeply"):
            await client.videos.get("v1")


async def test_deeply_nested_error_body_still_gives_the_status_error():
    """A 500 whose body is nested too deeply is still an InternalServerError."""

    async def handler(request: web.Request) -> web.Response:
        return _json(b'{"message":' + b"[" * 100_000, status=500)

    async with hostile_client(handler) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.voices.list()
    assert caught.value.status_code == 500


async def test_declared_content_length_over_the_limit_is_refused_before_reading():
    """A Content-Length above max_response_size raises ResponseTooLargeError with the limit."""

    async def handler(request: web.Request) -> web.Response:
        return _json(b"[" + b'"x",' * 2000 + b'"x"]')

    async with hostile_client(handler, max_response_size=1024) as client:
        with pytest.raises(ResponseTooLargeError) as caught:
            await client.voices.list()
    assert caught.value.limit == 1024
    assert isinstance(caught.value, ResponseValidationError)


async def test_endless_chunked_body_stops_at_the_limit():
    """A chunked body that never ends raises ResponseTooLargeError; the server is cut off early."""
    sent = 0

    async def handler(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"[")
        try:
            for _ in range(4096):  # up to 256 MiB unless the client hangs up
                await response.write(b'"xxxxxxxxxxxxxx",' * 3855)
                sent += 65535
        except (ConnectionError, RuntimeError):
            pass
        return response

    async with hostile_client(handler, max_response_size=1 << 20) as client:
        with pytest.raises(ResponseTooLargeError):
            await client.voices.list()
    assert sent < 128 << 20


async def test_gzip_bomb_stops_at_the_limit_without_inflating_it():
    """A 256 MiB gzip bomb (256 KiB on the wire) raises ResponseTooLargeError; memory stays low."""
    bomb = _bomb(256 << 20)

    async def handler(request: web.Request) -> web.Response:
        return _json(bomb, **{"Content-Encoding": "gzip"})

    async with hostile_client(handler, max_response_size=1 << 20) as client:
        tracemalloc.start()
        try:
            with pytest.raises(ResponseTooLargeError):
                await client.voices.list()
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < 32 << 20


async def test_compressed_body_the_client_did_not_ask_for_is_still_read():
    """A gzip body (sent though no Accept-Encoding was) is inflated and decoded."""

    async def handler(request: web.Request) -> web.Response:
        assert "gzip" not in request.headers.get("Accept-Encoding", "")
        return _json(gzip.compress(VOICES), **{"Content-Encoding": "gzip"})

    async with hostile_client(handler) as client:
        voices = await client.voices.list()
    assert [voice.id for voice in voices] == ["v1"]


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", b"\x1f\x8b\x08\x00garbage that is not deflate"),
        ("gzip", gzip.compress(VOICES)[:-12]),  # cut before the end of the stream
        ("br", b"\x0b\x02\x80[]\x03"),
        ("zstd", b"(\xb5/\xfd"),
    ],
    ids=["corrupt-gzip", "truncated-gzip", "brotli", "zstd"],
)
async def test_bad_or_unknown_content_encoding_is_a_response_validation_error(encoding, body):
    """Corrupt, truncated or unsupported compression raises ResponseValidationError."""

    async def handler(request: web.Request) -> web.Response:
        return _json(body, **{"Content-Encoding": encoding})

    async with hostile_client(handler) as client:
        with pytest.raises(ResponseValidationError):
            await client.voices.list()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/html", b"<html><body>Bad gateway</body></html>"),
        ("application/json", b""),
        ("application/json", b'{"id": "v1"}'),  # an object where a list belongs
        ("application/json", b'["\xff\xfe not utf-8"]'),
        ("application/octet-stream", bytes(range(256))),
        ("application/json", b"[" + b"1," * 10 + b"NaN]"),
    ],
    ids=["html", "empty", "wrong-shape", "not-utf8", "binary", "nan"],
)
async def test_wrong_content_is_a_response_validation_error(content_type, body):
    """A 200 whose body is not the expected JSON raises ResponseValidationError."""

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type)

    async with hostile_client(handler) as client:
        with pytest.raises(ResponseValidationError):
            await client.voices.list()


async def test_body_cut_short_of_its_content_length_is_a_connection_error():
    """A body that ends before its Content-Length raises APIConnectionError (retryable)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Length": "1000"})
        await response.prepare(request)
        await response.write(b'[{"id": "v1"')
        assert request.transport is not None
        request.transport.close()
        return response

    async with hostile_client(handler) as client:
        with pytest.raises(APIConnectionError):
            await client.voices.list()


async def test_huge_error_body_keeps_its_status_and_only_its_start():
    """A 500 with a 40 MiB body is an InternalServerError holding at most 64 KiB of it."""

    async def handler(request: web.Request) -> web.Response:
        return _json(b'{"message": "down"}' + b" " * (40 << 20), status=500)

    async with hostile_client(handler) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.voices.list()
    assert len(caught.value.body) <= 64 * 1024


async def test_trickling_response_is_cut_by_the_total_timeout():
    """A server sending one byte at a time never outlives Timeout(total=...)."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(600):
            await response.write(b" ")
            await asyncio.sleep(0.05)
        return response

    timeout = Timeout(connect=5, read=5, total=0.5)
    async with hostile_client(handler, timeout=timeout) as client:
        with pytest.raises(APITimeoutError):
            await client.voices.list()


@pytest.mark.parametrize("size", [0, -1, True, 1.5, "32MiB"])
def test_max_response_size_must_be_a_positive_whole_number(size):
    """max_response_size rejects zero, negatives, bools, floats and strings by name."""
    with pytest.raises(InvalidRequestError, match="max_response_size"):
        AsyncArgil(api_key="k" * 20, max_response_size=size)


async def test_download_error_with_a_huge_body_keeps_only_its_start(tmp_path):
    """A CDN answering a download with 404 and 40 MiB of body: NotFoundError, 64 KiB kept."""

    async def handler(request: web.Request) -> web.Response:
        if request.path.startswith("/files/"):
            return web.Response(body=b"gone " * (8 << 20), status=404)
        file_url = f"http://{request.host}/files/v1.mp4"
        return web.json_response({"id": "v1", "status": "DONE", "videoUrl": file_url})

    async with hostile_client(handler) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.videos.download("v1", tmp_path)
    assert len(caught.value.body) <= 64 * 1024
    assert list(tmp_path.iterdir()) == []


@asynccontextmanager
async def raw_server(
    reply: bytes, filler: bytes = b" " * 65536
) -> AsyncIterator[tuple[str, list[int]]]:
    """A loopback server writing ``reply`` (status line, headers, body) as raw bytes, then
    ``filler`` 1024 times or until the client hangs up, so headers may lie about the body.

    Yields the API base URL and a list holding how many bytes of filler were written.
    """
    written = [0]
    serving: list[tuple[asyncio.Task[None] | None, asyncio.StreamWriter]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        serving.append((asyncio.current_task(), writer))  # type: ignore[arg-type]
        await reader.readuntil(b"\r\n\r\n")
        writer.write(reply)
        try:
            for _ in range(1024):
                writer.write(filler)
                await writer.drain()
                written[0] += len(filler)
        except (ConnectionError, RuntimeError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1", written
    finally:
        server.close()
        for _, writer in serving:
            writer.transport.abort()  # a handler still writing stops at its next drain
        await asyncio.gather(*(task for task, _ in serving if task is not None))
        await server.wait_closed()


def _head(*headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def test_body_longer_than_its_content_length_is_never_read_past_it():
    """64 MiB after a 30-byte Content-Length: the 30 bytes, or a typed error; memory stays low.

    Which one depends on how the bytes arrive: aiohttp parses what follows the declared body
    as the next response, and refuses it if it comes in the same read.
    """
    reply = _head(f"Content-Length: {len(VOICES)}") + VOICES
    async with (
        raw_server(reply) as (base_url, _),
        AsyncArgil(api_key="k" * 20, base_url=base_url, max_retries=0) as client,
    ):
        tracemalloc.start()
        try:
            voices = await client.voices.list()
        except APIConnectionError:
            voices = None
        finally:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    assert voices is None or [voice.id for voice in voices] == ["v1"]
    assert peak < 16 << 20


@pytest.mark.parametrize("length", ["30", "999999999999"])
async def test_content_length_beside_endless_chunks_stops_at_the_limit(length):
    """Content-Length and Transfer-Encoding: chunked together, endless chunks: a typed error."""
    chunk = b"10000\r\n" + b" " * 65536 + b"\r\n"
    reply = _head(f"Content-Length: {length}", "Transfer-Encoding: chunked") + b"1\r\n[\r\n"
    async with (
        raw_server(reply, chunk) as (base_url, written),
        AsyncArgil(
            api_key="k" * 20, base_url=base_url, max_retries=0, max_response_size=1 << 20
        ) as client,
    ):
        with pytest.raises(ArgilError):
            await client.voices.list()
    assert written[0] < 1024 * len(chunk)


async def test_body_at_exactly_the_limit_is_read_whole():
    """A body whose Content-Length equals max_response_size is read and decoded."""

    async def handler(request: web.Request) -> web.Response:
        return _json(VOICES)

    async with hostile_client(handler, max_response_size=len(VOICES)) as client:
        voices = await client.voices.list()
    assert [voice.id for voice in voices] == ["v1"]

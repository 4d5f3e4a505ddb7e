"""argil_async.testing.MockTransport: the public, socket-free transport for users' tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from argil_async import (
    APIConnectionError,
    AsyncArgil,
    NotFoundError,
    Request,
    Response,
    RetryPolicy,
    Transport,
)
from argil_async.testing import MockTransport, json_response


def _client(transport: Transport, retries: int = 2) -> AsyncArgil:
    policy = RetryPolicy(max_retries=retries, wait_scale=0)
    return AsyncArgil(api_key="test-key", transport=transport, retry_policy=policy)


async def test_answers_in_order_and_records_requests() -> None:
    """A 503 then a 200: the client retries once, and both requests are recorded."""
    transport = MockTransport(json_response(503, {}), json_response(200, {"id": "v1"}))
    async with _client(transport) as client:
        video = await client.videos.get("v1")
    assert video.id == "v1"
    assert [(r.method, r.path) for r in transport.requests] == [("GET", "/videos/v1")] * 2
    assert transport.closed


async def test_functions_and_exceptions_are_answers() -> None:
    """A function (sync or async) answers from the request; an exception is raised."""

    def echo(request: Request) -> Response:
        return json_response(200, {"id": request.path.rsplit("/", 1)[-1]})

    async def missing(request: Request) -> Response:
        return json_response(404, {"message": f"no {request.path}"})

    transport = MockTransport(echo, missing, APIConnectionError("down"))
    client = _client(transport, retries=0)
    assert (await client.avatars.get("a7")).id == "a7"
    with pytest.raises(NotFoundError):
        await client.avatars.get("gone")
    with pytest.raises(APIConnectionError):
        await client.webhooks.delete("w1")
    assert len(transport.requests) == 3


async def test_unscripted_request_fails_the_test() -> None:
    """With no answer left, the request raises AssertionError naming it."""
    client = _client(MockTransport())
    with pytest.raises(AssertionError, match="unexpected request GET /videos/v9"):
        await client.videos.get("v9")


async def test_downloads_come_from_files(tmp_path: Path) -> None:
    """videos.download() streams the bytes ``files`` holds for the video's URL."""
    url = "https://cdn.example.test/v1.mp4"
    done = {"id": "v1", "status": "DONE", "videoUrl": url}
    transport = MockTransport(json_response(200, done))
    transport.files[url] = b"mp4 bytes"
    path = await _client(transport).videos.download("v1", tmp_path)
    assert path.read_bytes() == b"mp4 bytes"


def test_mock_transport_satisfies_the_transport_protocol() -> None:
    """MockTransport type-checks as a Transport (mypy) and has its three methods."""
    transport: Transport = MockTransport()
    assert all(callable(getattr(transport, m)) for m in ("send", "stream", "aclose"))

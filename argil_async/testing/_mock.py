"""``MockTransport``: the client with no sockets, answering from a script."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, TypeAlias

import msgspec
from multidict import CIMultiDict

from .._seam import Request, Response

__all__ = ["MockTransport", "json_response"]

_Answer: TypeAlias = (
    "Response | BaseException | Callable[[Request], Response | Awaitable[Response]]"
)


def json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON [`Response`][argil_async.Response]: ``json_response(200, {"id": "v1"})``."""
    all_headers = CIMultiDict({"Content-Type": "application/json", **(headers or {})})
    return Response(status, all_headers, msgspec.json.encode(body))


class MockTransport:
    """A transport that answers each request with the next scripted answer, and records it.

    An answer is a [`Response`][argil_async.Response], an exception to raise (say
    ``APIConnectionError`` for a dropped connection) or a function of the
    [`Request`][argil_async.Request] returning a response (it may be async). A request with no
    answer left fails the test with an ``AssertionError``. ``files`` holds what downloads
    (``videos.download``) receive, by absolute URL. Retry waits are the policy's business:
    pass ``RetryPolicy(wait_scale=0)`` to turn them off. Example:

    ```python
    from argil_async import AsyncArgil, RetryPolicy
    from argil_async.testing import MockTransport, json_response

    transport = MockTransport(json_response(503, {}), json_response(200, {"id": "v1"}))
    client = AsyncArgil(
        api_key="test", transport=transport, retry_policy=RetryPolicy(wait_scale=0)
    )
    video = await client.videos.get("v1")         # retried once, then answered
    assert [r.path for r in transport.requests] == ["/videos/v1", "/videos/v1"]
    ```
    """

    def __init__(self, *answers: _Answer) -> None:
        self.answers: list[_Answer] = list(answers)
        self.requests: list[Request] = []
        self.files: dict[str, bytes] = {}
        self.closed: bool = False

    async def send(self, request: Request) -> Response:
        """Record ``request`` and play the next answer."""
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.path}")
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, Response):
            return answer
        response = answer(request)
        return await response if inspect.isawaitable(response) else response

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[tuple[Response, AsyncIterator[bytes]]]:
        """Serve ``files[url]`` as a download (one chunk)."""
        if url not in self.files:
            raise AssertionError(f"unexpected download of {url}")
        data = self.files[url]

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        yield Response(200, CIMultiDict({"Content-Length": str(len(data))}), b""), chunks()

    async def aclose(self) -> None:
        """Mark the transport closed (``closed`` turns true)."""
        self.closed = True

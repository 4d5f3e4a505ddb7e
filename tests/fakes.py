"""A scripted transport for tests that need no sockets: it answers from a queue."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from multidict import CIMultiDict

from argil_async import AsyncArgil, RetryPolicy
from argil_async._transport import Request, Response

Answer = Response | BaseException | Callable[[Request], Response]


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    """A JSON response with the given status, body and headers."""
    all_headers = CIMultiDict({"Content-Type": "application/json", **(headers or {})})
    return Response(status, all_headers, msgspec.json.encode(body))


class ScriptedTransport:
    """Answers each request with the next scripted answer and records what was sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[Request] = []
        self.closed = False

    async def send(self, request: Request) -> Response:
        self.requests.append(request)
        if not self.answers:
            raise AssertionError(f"unexpected request {request.method} {request.path}")
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer(request) if callable(answer) else answer

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[tuple[Response, AsyncIterator[bytes]]]:
        raise AssertionError("no streaming in scripted tests")
        yield  # pragma: no cover

    async def aclose(self) -> None:
        self.closed = True


def scripted_client(*answers: Answer, max_retries: int = 2) -> tuple[AsyncArgil, ScriptedTransport]:
    """A client wired to a ScriptedTransport, with retry waits turned off."""
    transport = ScriptedTransport(*answers)
    client = AsyncArgil(
        api_key="test-key-123456789",
        base_url="https://api.example.test/v1",
        transport=transport,
        retry_policy=RetryPolicy(max_retries=max_retries, wait_scale=0),
    )
    return client, transport

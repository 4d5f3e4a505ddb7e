"""Transports for tests that need no sockets: one answers from a queue, one on the sync loop."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
from multidict import CIMultiDict

from argil_async import Argil, AsyncArgil, RetryPolicy
from argil_async._sync_runtime import PORTAL_THREAD_NAME
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
        self.files: dict[str, bytes] = {}  # what stream() serves, by absolute URL
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
        if url not in self.files:
            raise AssertionError(f"unexpected download of {url}")
        data = self.files[url]

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        yield Response(200, CIMultiDict({"Content-Length": str(len(data))}), b""), chunks()

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


class LoopTransport:
    """Answers on the client's loop: avatars by id, pages of assets; ``/avatars/hang`` hangs."""

    def __init__(self, assets: int = 0) -> None:
        self.assets = [{"id": f"asset-{i}", "status": "READY"} for i in range(assets)]
        self.threads: set[int] = set()
        self.sent: list[Request] = []
        self.hanging = threading.Event()
        self.cancelled = threading.Event()
        self.closed_on: int | None = None
        self.on_send: Callable[[], object] | None = None

    async def send(self, request: Request) -> Response:
        self.threads.add(threading.get_ident())
        self.sent.append(request)
        if self.on_send is not None:
            self.on_send()
        if request.path == "/avatars/hang":
            self.hanging.set()
            try:
                await anyio.sleep_forever()
            finally:
                self.cancelled.set()
        if request.path == "/assets":
            return self._asset_page(dict(request.params))
        return json_response(200, {"id": request.path.rsplit("/", 1)[-1], "status": "IDLE"})

    def _asset_page(self, params: dict[str, str]) -> Response:
        page, size = int(params["page"]), int(params.get("pageSize", "20"))
        items = self.assets[(page - 1) * size : page * size]
        pages = -(-len(self.assets) // size)
        headers = {"X-Page": str(page), "X-Page-Size": str(size), "X-Total-Pages": str(pages)}
        return json_response(200, items, headers)

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[tuple[Response, AsyncIterator[bytes]]]:
        raise AssertionError("no downloads here")
        yield  # pragma: no cover

    async def aclose(self) -> None:
        self.closed_on = threading.get_ident()


def make_client(transport: LoopTransport) -> Argil:
    """A sync client wired to ``transport``, with retry waits off."""
    return Argil(
        api_key="sk-secret-123456",
        base_url="https://api.example.test/v1",
        transport=transport,
        retry_policy=RetryPolicy(max_retries=0, wait_scale=0),
    )


def loop_threads() -> list[threading.Thread]:
    """The sync clients' event-loop threads now running."""
    return [t for t in threading.enumerate() if t.name == PORTAL_THREAD_NAME]

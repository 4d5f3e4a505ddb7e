"""Transports for tests with no sockets: MockTransport (a queue), LoopTransport (the sync loop)."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

from argil_async import Argil, AsyncArgil, Request, Response, RetryPolicy
from argil_async._sync._runtime import PORTAL_THREAD_NAME
from argil_async.testing import MockTransport, json_response

# The scripted transport is public now, as argil_async.testing.MockTransport.
ScriptedTransport = MockTransport


def scripted_client(*answers: Any, max_retries: int = 2) -> tuple[AsyncArgil, ScriptedTransport]:
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

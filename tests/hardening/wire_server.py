"""A hostile HTTP server on loopback for wire fault tests: each test supplies the handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from argil_async import AsyncArgil, RetryPolicy

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
KEY = "hostile-test-key-0123456789"


@asynccontextmanager
async def hostile_server(handler: Handler) -> AsyncIterator[str]:
    """Serve every path with ``handler`` on 127.0.0.1 (a free port); yield the API base URL."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def hostile_client(handler: Handler, **kwargs: Any) -> AsyncIterator[AsyncArgil]:
    """An AsyncArgil (no retries unless given) talking to a hostile server running ``handler``."""
    kwargs.setdefault("retry_policy", RetryPolicy(max_retries=0))
    async with (
        hostile_server(handler) as base_url,
        AsyncArgil(api_key=KEY, base_url=base_url, **kwargs) as client,
    ):
        yield client

"""The aiohttp transport against real sockets: where the API key may and may not travel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from argil_async import APIStatusError, AsyncArgil

SECRET = "sk-transport-secret-0123456789"


@asynccontextmanager
async def serving(route: str, handler: Callable[..., object]) -> AsyncIterator[str]:
    """Serve one GET route on a loopback port and yield the server's base URL."""
    app = web.Application()
    app.router.add_get(route, handler)  # type: ignore[arg-type]
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def test_key_is_not_sent_to_another_host_on_redirect() -> None:
    """An API redirect to another origin is not followed, so the key never reaches it."""
    stolen: list[str | None] = []

    async def elsewhere(request: web.Request) -> web.Response:
        stolen.append(request.headers.get("x-api-key"))
        return web.json_response({"id": "v"})

    async with serving("/steal", elsewhere) as other_url:

        async def api(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"{other_url}/steal")

        async with (
            serving("/v1/voices/{id}", api) as api_url,
            AsyncArgil(api_key=SECRET, base_url=f"{api_url}/v1") as client,
        ):
            with pytest.raises(APIStatusError) as info:
                await client.voices.get("v")
    assert stolen == []
    assert info.value.status_code == 302
    assert "redirect" in info.value.message
    assert SECRET not in str(info.value)

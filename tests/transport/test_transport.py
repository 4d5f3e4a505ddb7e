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


@pytest.mark.parametrize("unrolled", [True, False], ids=["private-names", "public-path"])
async def test_each_response_hands_its_connection_back(
    monkeypatch: pytest.MonkeyPatch, unrolled: bool
) -> None:
    """After a 2xx, a 4xx, a chunked or a too-large body, the next request reuses the connection
    (on the path through aiohttp's private names, and on the public one other versions take)."""
    from argil_async import _transport, errors
    from argil_async._seam import Request, Timeout
    from argil_async._transport import AiohttpTransport

    monkeypatch.setattr(_transport, "_UNROLLED", unrolled and _transport._UNROLLED)

    peers: list[object] = []

    async def answer(request: web.Request) -> web.StreamResponse:
        peers.append(request.transport.get_extra_info("peername"))  # type: ignore[union-attr]
        kind = request.match_info["kind"]
        if kind == "missing":
            return web.json_response({"message": "no such thing"}, status=404)
        if kind == "large":
            return web.json_response(["x" * 100] * 20)  # over the 1,000-byte cap below
        if kind == "chunked":
            stream = web.StreamResponse()
            stream.enable_chunked_encoding()
            await stream.prepare(request)
            await stream.write(b"[1,")
            await stream.write(b"2]")
            await stream.write_eof()
            return stream
        return web.json_response([{"id": "a"}])

    async with serving("/v1/{kind}", answer) as url:
        transport = AiohttpTransport(
            f"{url}/v1", {"x-api-key": SECRET}, Timeout(), max_response_size=1000
        )
        try:
            outcomes: list[object] = []
            for kind in ("ok", "missing", "chunked", "ok", "large", "ok"):
                try:
                    response = await transport.send(Request("GET", f"/{kind}"))
                    outcomes.append((response.status, response.body))
                except errors.ResponseTooLargeError:
                    outcomes.append("too large")
            connector = transport._session.connector  # type: ignore[union-attr]
            assert not connector._acquired  # type: ignore[union-attr]  # nothing held
        finally:
            await transport.aclose()
    assert outcomes == [
        (200, b'[{"id": "a"}]'),
        (404, b'{"message": "no such thing"}'),
        (200, b"[1,2]"),
        (200, b'[{"id": "a"}]'),
        "too large",
        (200, b'[{"id": "a"}]'),
    ]
    assert len(set(peers[:5])) == 1  # one connection, handed back after each response

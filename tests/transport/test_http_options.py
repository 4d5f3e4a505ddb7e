"""HTTP settings: proxies (explicit and from the environment), trace configs, connectors, loops."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from argil_async import AsyncArgil
from argil_async.testing import ArgilSimulator

_HOP_BY_HOP = {
    "connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"
}  # fmt: skip


class ForwardProxy:
    """A tiny HTTP forward proxy on loopback: forwards absolute-form requests, remembers them."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        self.seen.append(str(request.url))
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method, str(request.url), headers=headers, data=await request.read()
        ) as upstream:
            body = await upstream.read()
            kept = {k: v for k, v in upstream.headers.items() if k.lower() not in _HOP_BY_HOP}
            return web.Response(status=upstream.status, body=body, headers=kept)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession(trust_env=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def proxy() -> AsyncIterator[ForwardProxy]:
    """A running loopback forward proxy."""
    server = ForwardProxy()
    await server.start()
    yield server
    await server.close()


async def test_explicit_proxy(sim: ArgilSimulator, proxy: ForwardProxy):
    """proxy= sends API requests through the proxy, which reaches the simulator."""
    async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url, proxy=proxy.url) as c:
        avatars = await c.avatars.list()
    assert avatars
    assert proxy.seen == [f"{sim.base_url}/avatars"]
    assert [r.route for r in sim.received] == ["GET /avatars"]


async def test_proxy_from_environment(
    sim: ArgilSimulator, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch
):
    """HTTP_PROXY is honoured by default (trust_env), NO_PROXY bypasses it, trust_env=False too."""
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
        await client.avatars.list()
    assert len(proxy.seen) == 1
    async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url, trust_env=False) as client:
        await client.avatars.list()
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
        await client.avatars.list()
    assert len(proxy.seen) == 1
    assert len(sim.received) == 3


async def test_trace_configs_see_each_request(sim: ArgilSimulator):
    """aiohttp TraceConfigs passed to the client observe every request it sends."""
    started: list[str] = []

    async def on_start(
        session: object, context: object, params: aiohttp.TraceRequestStartParams
    ) -> None:
        started.append(f"{params.method} {params.url.path}")

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_start)
    async with AsyncArgil(
        api_key=sim.api_key, base_url=sim.base_url, trace_configs=[config]
    ) as client:
        await client.avatars.list()
        await client.voices.list()
    assert started == ["GET /v1/avatars", "GET /v1/voices"]


async def test_connector_instance_stays_the_users(sim: ArgilSimulator):
    """A connector instance is used for the requests and left open for its owner to close."""
    connector = aiohttp.TCPConnector(limit=1)
    async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url, connector=connector) as c:
        await asyncio.gather(c.avatars.list(), c.voices.list())
    assert not connector.closed
    await connector.close()
    assert len(sim.received) == 2


def test_new_event_loop_gets_a_new_session():
    """asyncio.run twice with one client works: the second loop opens a fresh session."""
    made: list[aiohttp.BaseConnector] = []

    def factory() -> aiohttp.BaseConnector:
        made.append(aiohttp.TCPConnector(limit=5))
        return made[-1]

    with ArgilSimulator.in_thread() as sim:
        client = AsyncArgil(api_key=sim.api_key, base_url=sim.base_url, connector=factory)
        first = asyncio.run(client.avatars.list())
        second = asyncio.run(client.avatars.list())
        asyncio.run(client.aclose())
    assert [a.id for a in first] == [a.id for a in second]
    assert len(made) == 2
    assert all(connector.closed for connector in made)


def test_never_closed_client_is_quiet_at_exit():
    """A client never closed, used on two loops, prints no "Unclosed client session" at exit."""
    code = """
        import asyncio
        from argil_async import AsyncArgil
        from argil_async.testing import ArgilSimulator
        with ArgilSimulator.in_thread() as sim:
            client = AsyncArgil(api_key=sim.api_key, base_url=sim.base_url)
            for _ in range(2):
                print(len(asyncio.run(client.avatars.list())))
    """
    result = subprocess.run(
        [sys.executable, "-X", "dev", "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "always"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 2
    assert "Unclosed" not in result.stderr, result.stderr
    assert "ResourceWarning" not in result.stderr, result.stderr


# (the new session's loop-end closer starts after asyncio's shutdown_asyncgens(), which asyncio
# reports as a ResourceWarning, ignored by default: the caller closes the client itself here)
@pytest.mark.filterwarnings("ignore:asynchronous generator .* was scheduled after:ResourceWarning")
def test_a_call_made_while_the_loop_ends_gets_a_session():
    """An async generator's cleanup calling the API at ``asyncio.run``'s end, beside the
    client's own session closing there, is sent on a new session (no untyped "Session is
    closed")."""
    outcome: list[object] = []

    with ArgilSimulator.in_thread() as sim:
        client = AsyncArgil(api_key=sim.api_key, base_url=sim.base_url)

        async def cleanup_calls() -> AsyncIterator[int]:
            try:
                yield 1
            finally:
                await asyncio.sleep(0)  # the session's own finalizer starts closing it
                try:
                    outcome.append(len(await client.avatars.list()))
                except Exception as exc:  # what the call raised, to assert on below
                    outcome.append(exc)
                await client.aclose()

        async def main() -> int:
            listed = len(await client.avatars.list())  # the session and its loop-end closer
            generator = cleanup_calls()
            await generator.__anext__()
            main.generator = generator  # type: ignore[attr-defined]  # finalized at loop end
            return listed

        listed = asyncio.run(main())
    assert outcome == [listed]

"""``ArgilSimulator``: the whole Argil v1 API on a loopback port, for tests, examples and demos.

async with ArgilSimulator(render_video_time=0.2) as sim:
    client = AsyncArgil(api_key=sim.api_key, base_url=sim.base_url)

with ArgilSimulator.in_thread() as sim:      # for synchronous code
    ...
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from aiohttp import web

from ._app import build_app
from ._config import SimulatorConfig, SimulatorStats
from ._counters import SimulatorCounters
from ._records import Delivery, RecordedRequest
from ._runtime import ExchangeHook, Runtime
from ._state import WorkspaceState

_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class ArgilSimulator:
    """A faithful, in-memory Argil server. Every attribute is live; ``config`` may change mid-test.

    ``config`` fields can be given as keyword overrides: ``ArgilSimulator(drop_every=3)``.
    """

    def __init__(self, config: SimulatorConfig | None = None, **overrides: Any) -> None:
        base = config if config is not None else SimulatorConfig()
        self._runtime = Runtime(dataclasses.replace(base, **overrides) if overrides else base)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @property
    def config(self) -> SimulatorConfig:
        """The live configuration (mutable: faults and timings apply from the next request)."""
        return self._runtime.config

    @property
    def api_key(self) -> str:
        """The key clients must send in ``x-api-key``."""
        return self._runtime.config.api_key

    @property
    def base_url(self) -> str:
        """ "http://127.0.0.1:PORT/v1" once started."""
        if self._base_url is None:
            raise RuntimeError("the simulator is not running; use `async with` or await start()")
        return self._base_url

    @property
    def state(self) -> WorkspaceState:
        """The workspace: avatars, voices, assets, videos, webhooks, subtitle styles."""
        return self._runtime.state

    @property
    def stats(self) -> SimulatorStats:
        """Request counters, injected faults and the asset-processing high-water mark."""
        return self._runtime.stats

    def counters(self) -> SimulatorCounters:
        """What happened so far: creates, renders per video and per key, webhook deliveries.

        A snapshot (later events do not change it). Another process reads the same from
        ``GET {origin}/_sim/counters`` with the API key: ``SimulatorCounters.fetch(base_url,
        api_key)``. Example: ``assert sim.counters().by_idempotency_key["order-7"].renders == 1``.
        """
        return self._runtime.ledger.snapshot(self._runtime.deliveries)

    @property
    def received(self) -> deque[RecordedRequest]:
        """The last 10,000 API requests, oldest first."""
        return self._runtime.received

    @property
    def deliveries(self) -> deque[Delivery]:
        """The last 10,000 finished webhook deliveries (status or error), in completion order."""
        return self._runtime.deliveries

    @property
    def on_exchange(self) -> ExchangeHook | None:
        """Called as ``hook(request, status, headers, body)`` for every API response sent."""
        return self._runtime.on_exchange

    @on_exchange.setter
    def on_exchange(self, hook: ExchangeHook | None) -> None:
        self._runtime.on_exchange = hook

    async def start(self) -> None:
        """Bind the port (0 picks a free one) and start serving."""
        if self._runner is not None:
            raise RuntimeError("the simulator is already running")
        sock = _listen(self.config.host, self.config.port)
        runner = web.AppRunner(build_app(self._runtime), shutdown_timeout=1.0, access_log=None)
        try:
            await runner.setup()
            await web.SockSite(runner, sock).start()
        except BaseException:
            await runner.cleanup()
            sock.close()
            raise
        self._runner = runner
        host = _WILDCARDS.get(self.config.host, self.config.host)
        host = f"[{host}]" if ":" in host else host
        self._runtime.origin = f"http://{host}:{sock.getsockname()[1]}"
        self._base_url = f"{self._runtime.origin}/v1"

    async def close(self) -> None:
        """Stop serving, cancel every timer and delivery, close sessions. Safe to call twice."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await runner.cleanup()
        await self._runtime.aclose()
        self._base_url = None

    async def __aenter__(self) -> ArgilSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every timer has fired and every webhook delivery has finished."""
        await self._runtime.drain(timeout)

    async def wait_until(self, predicate: Callable[[], object], timeout: float = 5.0) -> None:
        """Poll ``predicate`` every few milliseconds until it is truthy, else TimeoutError."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met within {timeout} s")
            await asyncio.sleep(0.005)

    @classmethod
    @contextlib.contextmanager
    def in_thread(
        cls, config: SimulatorConfig | None = None, **overrides: Any
    ) -> Iterator[ArgilSimulator]:
        """Run a simulator on its own event loop in a background thread, for synchronous code."""
        host = _ThreadHost(cls(config, **overrides))
        simulator = host.start()
        try:
            yield simulator
        finally:
            host.stop()


class _ThreadHost:
    """Owns the background thread and loop of ``ArgilSimulator.in_thread``."""

    def __init__(self, simulator: ArgilSimulator) -> None:
        self.simulator = simulator
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="argil-simulator", daemon=True)

    def start(self) -> ArgilSimulator:
        """Start the thread and return once the simulator serves (or re-raise its failure)."""
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self._thread.join()
            raise self._error
        return self.simulator

    def stop(self) -> None:
        """Ask the loop to close the simulator, then wait for the thread to end."""
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            await self.simulator.start()
        except BaseException as exc:
            self._error = exc
            return
        finally:
            self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await self.simulator.close()


def _listen(host: str, port: int) -> socket.socket:
    """A bound TCP socket; binding ourselves tells us the port even when ``port`` is 0."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock

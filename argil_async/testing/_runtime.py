"""The simulator's shared runtime: state, counters, recordings and its background tasks.

Handlers reach it through ``request.app[RUNTIME]``. Every timer and webhook delivery is started with
``spawn``, so ``close()`` can cancel and await them all and leave no pending task behind.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import aiohttp
from aiohttp import web

from ._config import SimulatorConfig, SimulatorStats
from ._counters import Ledger
from ._present import Presenter
from ._records import Delivery, RecordedRequest
from ._state import WorkspaceState

ExchangeHook = Callable[[RecordedRequest, int, Mapping[str, str], bytes], None]

RECEIVED_LIMIT = 10_000  # also the number of deliveries kept: a long-running server stays bounded


class Runtime:
    """Everything the handlers share; one per simulator."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.state = WorkspaceState()
        self.stats = SimulatorStats()
        self.ledger = Ledger()
        self.received: deque[RecordedRequest] = deque(maxlen=RECEIVED_LIMIT)
        self.deliveries: deque[Delivery] = deque(maxlen=RECEIVED_LIMIT)
        self.on_exchange: ExchangeHook | None = None
        self.origin = f"http://{config.host}:{config.port}"
        self.fault_counter = 0
        self.fault_settings: tuple[object, ...] = ()
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background, tracked so that ``close()`` can cancel it."""
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def presenter(self, request: web.Request | None = None) -> Presenter:
        """A presenter whose URLs use the host the client reached us on (or our own origin)."""
        origin = f"{request.scheme}://{request.host}" if request is not None else self.origin
        return Presenter(origin=origin, created_at_key=self.config.created_at_key)

    def session(self) -> aiohttp.ClientSession:
        """The client session used for webhook deliveries, created on first use."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def drain(self, timeout: float) -> None:
        """Wait until no background task is left (timers done, deliveries sent)."""
        await asyncio.wait_for(self._wait_idle(), timeout)

    async def _wait_idle(self) -> None:
        """Wait for the tracked tasks, including any that finishing tasks spawn."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def aclose(self) -> None:
        """Cancel and await every background task, then close the delivery session."""
        while self._tasks:
            tasks = set(self._tasks)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None


RUNTIME = web.AppKey("argil_simulator_runtime", Runtime)

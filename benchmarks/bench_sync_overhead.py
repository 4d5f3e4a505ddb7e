"""What the sync facade costs: CPU per call of ``Argil`` against ``AsyncArgil``, same requests,
and the trips to the event loop made while iterating 10,000 items.

The simulator runs in a separate process, so ``time.process_time`` counts only this process:
for ``Argil`` that is the caller's thread plus the client's loop thread. Each round runs both
clients in turns so that machine noise hits them alike; the report gives medians over rounds.
A second ``Argil`` with the loop's ``wake`` set to None shows the cost without the direct
hand-off (the task made in the caller's thread): one ``call_soon_threadsafe`` per call.
Loop crossings are counted on an in-process canned transport (the count does not depend on
the server), as the hand-offs from this thread to the client's loop (a ``call_soon_threadsafe``,
or the wake-up after a call made its task here).

    python benchmarks/bench_sync_overhead.py [--requests 300] [--rounds 7] [--items 10000]

Target (issue 21): at most 75 us of CPU added per call, and one crossing per page.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from _simproc import running_simulator

from argil_async import Argil, AsyncArgil, Request, Response

Call = Callable[[], object]


def sync_calls(client: Argil, avatar_id: str) -> dict[str, Call]:
    """The requests measured, made through the sync client."""
    return {
        "avatars.get": lambda: client.avatars.get(avatar_id),
        "subtitles page of 10": lambda: client.subtitles.list().fetch_page(1),
    }


def async_calls(client: AsyncArgil, avatar_id: str) -> dict[str, Callable[[], Any]]:
    """The same requests through the async client (coroutine factories)."""
    return {
        "avatars.get": lambda: client.avatars.get(avatar_id),
        "subtitles page of 10": lambda: client.subtitles.list().fetch_page(1),
    }


def cpu_sync(call: Call, requests: int) -> float:
    """Microseconds of this process's CPU (all threads) per sync call."""
    started = time.process_time()
    for _ in range(requests):
        call()
    return (time.process_time() - started) / requests * 1e6


async def cpu_async(call: Callable[[], Any], requests: int) -> float:
    """Microseconds of this process's CPU per awaited call."""
    started = time.process_time()
    for _ in range(requests):
        await call()
    return (time.process_time() - started) / requests * 1e6


def measure_overhead(requests: int, rounds: int) -> None:
    with running_simulator() as (base_url, key):
        loop = asyncio.new_event_loop()
        aclient = AsyncArgil(api_key=key, base_url=base_url)
        try:
            with (
                Argil(api_key=key, base_url=base_url) as client,
                Argil(api_key=key, base_url=base_url) as fallback,
            ):
                avatar_id = client.avatars.list()[0].id
                fallback._runtime._started().wake = None  # one call_soon_threadsafe per call
                sync_runs = sync_calls(client, avatar_id)
                fallback_runs = sync_calls(fallback, avatar_id)
                async_runs = async_calls(aclient, avatar_id)
                for name in sync_runs:  # warm up connections and caches
                    cpu_sync(sync_runs[name], 30)
                    cpu_sync(fallback_runs[name], 30)
                    loop.run_until_complete(cpu_async(async_runs[name], 30))
                for name in sync_runs:
                    sync_samples, fallback_samples, async_samples = [], [], []
                    for _ in range(rounds):
                        async_samples.append(
                            loop.run_until_complete(cpu_async(async_runs[name], requests))
                        )
                        sync_samples.append(cpu_sync(sync_runs[name], requests))
                        fallback_samples.append(cpu_sync(fallback_runs[name], requests))
                    report(
                        name,
                        statistics.median(async_samples),
                        statistics.median(sync_samples),
                        statistics.median(fallback_samples),
                    )
        finally:
            loop.run_until_complete(aclient.aclose())
            loop.close()


def report(name: str, async_us: float, sync_us: float, fallback_us: float) -> None:
    added = sync_us - async_us
    verdict = "ok" if added <= 75 else "OVER the 75 us target"
    print(f"{name}: CPU per call (median)")
    print(f"  AsyncArgil {async_us:8.1f} us")
    print(f"  Argil      {sync_us:8.1f} us   added {added:6.1f} us  ({verdict})")
    print(
        f"  Argil without the direct hand-off (call_soon_threadsafe) {fallback_us:8.1f} us   "
        f"added {fallback_us - async_us:6.1f} us"
    )


class CannedAssets:
    """Serves ``count`` assets from memory, paginated the way /assets is (headers)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.requests = 0

    async def send(self, request: Request) -> Response:
        self.requests += 1
        params = dict(request.params)
        page, size = int(params["page"]), int(params["pageSize"])
        first = (page - 1) * size
        items = [
            {"id": f"a{i}", "status": "READY"} for i in range(first, min(first + size, self.count))
        ]
        headers = {
            "X-Page": str(page),
            "X-Page-Size": str(size),
            "X-Total-Count": str(self.count),
            "X-Total-Pages": str(-(-self.count // size)),
        }
        return Response(200, headers, msgspec.json.encode(items))

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[tuple[Response, AsyncIterator[bytes]]]:
        raise NotImplementedError
        yield  # pragma: no cover

    async def aclose(self) -> None:
        pass


def measure_crossings(items: int) -> None:
    transport = CannedAssets(items)
    with Argil(api_key="bench", base_url="https://bench.test/v1", transport=transport) as client:
        loop = client._runtime._started()  # start the loop thread before counting
        crossings = 0
        original = loop.event_loop.call_soon_threadsafe

        def counting(*args: Any, **kwargs: Any) -> Any:
            nonlocal crossings
            if threading.get_ident() != loop.thread_id:
                crossings += 1
            return original(*args, **kwargs)

        loop.event_loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
        wake = loop.wake
        if wake is not None:  # calls make their task here, then wake the loop: one trip each

            def counting_wake() -> None:
                nonlocal crossings
                crossings += 1
                wake()

            loop.wake = counting_wake
        started, cpu = time.perf_counter(), time.process_time()
        seen = sum(1 for _ in client.assets.list(page_size=100))
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu
        counted = crossings  # before close(), which makes trips of its own
    pages = transport.requests
    print(f"iterating {seen} items in pages of 100 (canned transport)")
    print(f"  pages fetched {pages}, loop crossings {counted} ({counted / pages:.2f} per page)")
    print(f"  {wall * 1e3:.1f} ms wall, {cpu / seen * 1e6:.2f} us CPU per item")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--items", type=int, default=10_000)
    args = parser.parse_args()
    measure_overhead(args.requests, args.rounds)
    measure_crossings(args.items)

"""openai-python's client CPU per request against AsyncArgil's: typed list calls, same server.

Each client makes its own typed list call and parses the page into its own models:
``AsyncArgil`` through ``assets.list(type="IMAGE", page_size=n).fetch_page(1)`` (argument
checks, options, retries, decoding into msgspec ``Asset`` models, a ``Page``), and
``openai.AsyncOpenAI`` (default settings) through ``await files.list(limit=n)`` (its
request pipeline over httpx, the body parsed into pydantic ``FileObject`` models, an
``AsyncCursorPage``). Both call one local server, in another process so that its CPU is not
counted, which answers each with a canned body of the same size: for ours, the bytes and
paging headers the simulator gave for a page of ``n`` realistic assets (``id``, ``name``,
``type``, ``status``, ``fileUrl``, ``thumbnailUrl``, ``createdAt``); for openai's, an
OpenAI-shaped file list (``object``, ``data``, ``first_id``, ``last_id``, ``has_more``) of
``n`` files whose names are padded to the same byte count. Each round runs both in turns; the
report gives the medians of this process's CPU time per request (``time.process_time``),
openai's divided by ours (higher is better for us), and the spread of that ratio round by
round (on a loaded machine it is wide). ``--instructions N`` counts instructions per request
instead (valgrind's callgrind, each client in a process of its own, N requests after a
warm-up): a load-independent ratio, though not the CPU time one (pydantic-core's Rust and
msgspec's C are counted alike, instruction for instruction). Needs ``pip install openai``;
without it the script says so and exits.

    python benchmarks/bench_openai.py [--requests 300] [--rounds 7] [--instructions N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aiohttp
from _callgrind import callgrind, instructions_per_request
from _simproc import running_simulator
from bench_overhead import seed_assets

from argil_async import AsyncArgil

try:
    import openai
except ImportError:  # not a dependency of the SDK
    openai = None  # type: ignore[assignment]

SIZES = (20, 100)
Call = Callable[[], Awaitable[int]]
_PAGING = ("X-Page", "X-Page-Size", "X-Total-Count", "X-Total-Pages")


async def cpu_per_request(call: Call, size: int, requests: int) -> float:
    """Microseconds of this process's CPU per request (the other client's garbage collected
    first, outside the measure, so that neither pays for the other's)."""
    gc.collect()
    started = time.process_time()
    for _ in range(requests):
        assert await call() == size
    return (time.process_time() - started) / requests * 1e6


async def simulator_pages() -> dict[str, dict[str, object]]:
    """The simulator's body and paging headers for page 1 of ``n`` assets, for each size."""
    pages: dict[str, dict[str, object]] = {}
    with running_simulator(asset_processing_time=0.01) as (base_url, key):
        async with AsyncArgil(api_key=key, base_url=base_url) as argil:
            await seed_assets(argil, max(SIZES))
        async with aiohttp.ClientSession(headers={"x-api-key": key}) as session:
            for size in SIZES:
                params = {"type": "IMAGE", "pageSize": str(size), "page": "1"}
                async with session.get(f"{base_url}/assets", params=params) as resp:
                    resp.raise_for_status()
                    body = await resp.read()
                    headers = {name: resp.headers[name] for name in _PAGING}
                pages[str(size)] = {"body": body.decode(), "headers": headers}
    return pages


def openai_files(count: int, size: int) -> bytes:
    """An OpenAI-shaped file list of ``count`` files, padded to ``size`` bytes."""

    def listing(pad: int) -> bytes:
        files = [
            {
                "id": f"file-{i:024d}",
                "object": "file",
                "bytes": 120_000 + i,
                "created_at": 1_765_000_000 + i,
                "expires_at": None,
                "filename": f"bench-{i}.png" + "x" * (pad // count + (i < pad % count)),
                "purpose": "vision",
                "status": "processed",
                "status_details": None,
            }
            for i in range(count)
        ]
        return json.dumps(
            {
                "object": "list",
                "data": files,
                "first_id": files[0]["id"],
                "last_id": files[-1]["id"],
                "has_more": False,
            },
            separators=(",", ":"),
        ).encode()

    return listing(max(0, size - len(listing(0))))


def serve(spec_path: str) -> None:
    """The canned server (run as ``--serve SPEC`` in a process of its own)."""
    from aiohttp import web

    spec = json.loads(Path(spec_path).read_text())
    argil = {size: (page["body"].encode(), page["headers"]) for size, page in spec["argil"].items()}
    files = {size: body.encode() for size, body in spec["openai"].items()}

    async def assets(request: web.Request) -> web.Response:
        body, headers = argil[request.query["pageSize"]]
        return web.Response(body=body, headers=headers, content_type="application/json")

    async def file_list(request: web.Request) -> web.Response:
        return web.Response(body=files[request.query["limit"]], content_type="application/json")

    async def start() -> None:
        app = web.Application()
        app.router.add_get("/assets", assets)
        app.router.add_get("/v1/files", file_list)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(f"http://127.0.0.1:{port}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(start())


@contextlib.contextmanager
def canned_server(spec: dict[str, object]) -> Iterator[str]:
    """Run :func:`serve` in another process; yield its base URL."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", handle.name], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip()
    finally:
        process.terminate()
        process.wait(timeout=10)
        Path(handle.name).unlink()


@contextlib.asynccontextmanager
async def clients(base_url: str, size: int) -> AsyncIterator[dict[str, Call]]:
    """The two typed calls for a page of ``size``, each through its own open client."""
    assert openai is not None
    async with (
        AsyncArgil(api_key="sk-bench", base_url=base_url) as argil,
        openai.AsyncOpenAI(api_key="sk-bench", base_url=f"{base_url}/v1") as other,
    ):

        async def ours() -> int:
            page = await argil.assets.list(type="IMAGE", page_size=size).fetch_page(1)
            return len(page.items)

        async def theirs() -> int:
            page = await other.files.list(limit=size)
            return len(page.data)

        yield {"AsyncArgil": ours, "openai.AsyncOpenAI": theirs}


async def timed(base_url: str, size: int, requests: int, rounds: int) -> dict[str, list[float]]:
    """CPU microseconds per request of each call, round by round (the calls in turns)."""
    async with clients(base_url, size) as calls:
        for call in calls.values():  # warm up connections and caches
            await cpu_per_request(call, size, 20)
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(rounds):
            for name, call in calls.items():
                samples[name].append(await cpu_per_request(call, size, requests))
    return samples


async def instrumented(name: str, base_url: str, size: int, requests: int) -> None:
    """The worker under callgrind: 20 calls, then ``requests`` with instrumentation on."""
    async with clients(base_url, size) as calls:
        call = calls[name]
        for _ in range(20):
            assert await call() == size
        callgrind(True)
        for _ in range(requests):
            assert await call() == size
        callgrind(False)


def instructions(name: str, base_url: str, size: int, requests: int) -> float:
    """Instructions per request of one client's call, counted by callgrind in a process of
    its own (load-independent, unlike CPU time)."""
    worker_args = ["--worker", json.dumps([name, base_url, size, requests])]
    return instructions_per_request(__file__, worker_args, requests)


async def main(requests: int, rounds: int, counted: int) -> None:
    pages = await simulator_pages()
    sizes = {size: len(str(page["body"]).encode()) for size, page in pages.items()}
    bodies = {size: openai_files(int(size), sizes[size]) for size in pages}
    spec = {"argil": pages, "openai": {size: body.decode() for size, body in bodies.items()}}
    with canned_server(spec) as base_url:
        for size in SIZES:
            print(f"page of {size} (bodies {sizes[str(size)]} / {len(bodies[str(size)])} bytes)")
            if counted:
                ours = instructions("AsyncArgil", base_url, size, counted)
                theirs = instructions("openai.AsyncOpenAI", base_url, size, counted)
                print(f"  instructions per request: AsyncArgil {ours:,.0f}, openai {theirs:,.0f}")
                print(f"  openai instructions / ours: {theirs / ours:.2f}x")
                continue
            samples = await timed(base_url, size, requests, rounds)
            medians = {name: statistics.median(v) for name, v in samples.items()}
            print(f"  client CPU per request (median of {rounds} rounds)")
            for name, value in medians.items():
                print(f"  {name:<20} {value:8.1f} us")
            ratio = medians["openai.AsyncOpenAI"] / medians["AsyncArgil"]
            ours_cpu, theirs_cpu = samples["AsyncArgil"], samples["openai.AsyncOpenAI"]
            paired = sorted(t / o for o, t in zip(ours_cpu, theirs_cpu, strict=True))
            print(
                f"  openai CPU / ours:   {ratio:.2f}x (each round's: {paired[0]:.2f}x to "
                f"{paired[-1]:.2f}x, median {statistics.median(paired):.2f}x)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--instructions",
        type=int,
        default=0,
        metavar="N",
        help="count instructions per request over N requests (callgrind) instead of timing",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    elif openai is None:
        sys.exit("openai is not installed: pip install openai")
    elif args.worker:
        name, base_url, size, requests = json.loads(args.worker)
        asyncio.run(instrumented(name, base_url, size, requests))
    else:
        asyncio.run(main(args.requests, args.rounds, args.instructions))

"""Client CPU per request: AsyncArgil against raw aiohttp (+ json, + msgspec), same requests.

The simulator runs in a separate process so that only the client's CPU is measured
(``time.process_time`` of this process). Each round runs every variant once, in turns, so that
machine noise hits them alike; the report gives medians over rounds and ratios to the
raw aiohttp + msgspec baseline measured in the same run.

AsyncArgil runs in three configurations: logging off (the default), ``ARGIL_LOG=info``'s level
with the lines going to a NullHandler (formatted, then dropped), and OpenTelemetry installed
with an SDK tracer provider but no exporter (every call starts and ends a span). A tracer
provider cannot be removed once set, so the OTel variant runs in a second phase, after the
others, with the baseline measured again beside it.

    python benchmarks/bench_overhead.py [--requests 300] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator

import aiohttp
import msgspec
from _simproc import running_simulator

from argil_async import AsyncArgil

try:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
except ImportError:  # the [otel] extra and opentelemetry-sdk are not installed
    trace = None  # type: ignore[assignment]


class RawAsset(msgspec.Struct, rename="camel"):
    """The baseline's model: the same fields the SDK's Asset decodes."""

    id: str
    name: str | None = None
    type: str | None = None
    status: str | None = None
    file_url: str | None = None
    thumbnail_url: str | None = None
    created_at: str | None = None


Variant = Callable[[int], Awaitable[int]]


async def seed_assets(client: AsyncArgil, count: int) -> None:
    """Upload ``count`` assets and wait until they are all READY."""
    existing = await client.assets.list(type="IMAGE", page_size=100).to_list()
    missing = count - len(existing)
    await asyncio.gather(
        *(
            client.assets.upload(
                name=f"bench-{i}", type="IMAGE", url=f"https://bench.test/{i}.png", wait=True
            )
            for i in range(missing)
        )
    )


def variants(
    session: aiohttp.ClientSession, client: AsyncArgil, base_url: str, key: str
) -> dict[str, Variant]:
    """The three ways of fetching page 1 of /assets with ``size`` items."""
    headers = {"x-api-key": key}
    decoder = msgspec.json.Decoder(list[RawAsset])

    async def raw_json(size: int) -> int:
        params = {"type": "IMAGE", "pageSize": str(size), "page": "1"}
        async with session.get(f"{base_url}/assets", params=params, headers=headers) as resp:
            resp.raise_for_status()
            return len(json.loads(await resp.read()))

    async def raw_msgspec(size: int) -> int:
        params = {"type": "IMAGE", "pageSize": str(size), "page": "1"}
        async with session.get(f"{base_url}/assets", params=params, headers=headers) as resp:
            resp.raise_for_status()
            return len(decoder.decode(await resp.read()))

    async def sdk(size: int) -> int:
        page = await client.assets.list(type="IMAGE", page_size=size).fetch_page(1)
        return len(page.items)

    async def sdk_logging(size: int) -> int:
        with logging_to_null():
            return await sdk(size)

    return {
        "aiohttp+json": raw_json,
        "aiohttp+msgspec": raw_msgspec,
        "AsyncArgil": sdk,
        "ARGIL_LOG=info": sdk_logging,
    }


@contextlib.contextmanager
def logging_to_null() -> Iterator[None]:
    """The argil_async logger at INFO (as ARGIL_LOG=info sets it), its lines sent nowhere."""
    logger = logging.getLogger("argil_async")
    handler = logging.NullHandler()
    level, propagate = logger.level, logger.propagate
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate


async def cpu_per_request(variant: Variant, size: int, requests: int) -> float:
    """Microseconds of this process's CPU per request."""
    started = time.process_time()
    for _ in range(requests):
        count = await variant(size)
        assert count == size, f"expected {size} items, got {count}"
    return (time.process_time() - started) / requests * 1e6


async def medians(
    runs: dict[str, Variant], size: int, requests: int, rounds: int
) -> dict[str, float]:
    """Median CPU per request of each variant, the variants taking turns in every round."""
    for variant in runs.values():  # warm up connections and caches
        await cpu_per_request(variant, size, 20)
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, variant in runs.items():
            samples[name].append(await cpu_per_request(variant, size, requests))
    return {name: statistics.median(values) for name, values in samples.items()}


async def main(requests: int, rounds: int) -> None:
    with running_simulator(asset_processing_time=0.01) as (base_url, key):
        async with (
            AsyncArgil(api_key=key, base_url=base_url) as client,
            aiohttp.ClientSession() as session,
        ):
            await seed_assets(client, 100)
            runs = variants(session, client, base_url, key)
            for size in (20, 100):
                report(size, await medians(runs, size, requests, rounds))
            if trace is None:
                print("OpenTelemetry SDK not installed: the OTel variant is skipped")
                return
            trace.set_tracer_provider(TracerProvider())  # no span processor: nothing exported
            otel = {
                "aiohttp+msgspec": runs["aiohttp+msgspec"],
                "OTel, no exporter": runs["AsyncArgil"],
            }
            for size in (20, 100):
                report(size, await medians(otel, size, requests, rounds))


def report(size: int, medians: dict[str, float]) -> None:
    baseline = medians["aiohttp+msgspec"]
    print(f"page of {size} assets: client CPU per request (median)")
    for name, value in medians.items():
        print(f"  {name:<18} {value:8.1f} us   {value / baseline:5.2f}x aiohttp+msgspec")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))

"""Instructions per request (valgrind's callgrind): AsyncArgil against raw aiohttp + msgspec.

CPU-time benchmarks on a shared 2-core machine spread by 0.1x or more between runs; counted
instructions do not depend on the load, so small changes show. Each variant runs in its own
process under ``valgrind --tool=callgrind --instr-atstart=no``: instrumentation is switched on
(``callgrind_control -i on``) after a warm-up, for ``--requests`` fetches of page 1 of
/assets, then off, and the count is divided by the requests. The SDK is counted twice: one
``fetch_page(1)``, and the first page of ``pages()`` (the iteration path, with its cycle
detection). The simulator's asset bodies are realistic: ``id``, ``name``, ``type``,
``status``, ``fileUrl``, ``thumbnailUrl``, ``createdAt``. The simulator runs in another
process, unmeasured. Another version of the SDK can be measured alike by putting its folder
first on ``PYTHONPATH``.

    python benchmarks/bench_instructions.py [--requests 200]
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import aiohttp
import msgspec
from _callgrind import callgrind, instructions_per_request
from _simproc import running_simulator
from bench_overhead import RawAsset, seed_assets

from argil_async import AsyncArgil


async def worker(variant: str, size: int, requests: int, base_url: str, key: str) -> None:
    """Fetch the page ``20 + requests`` times, instrumented after the first 20."""
    decoder = msgspec.json.Decoder(list[RawAsset])
    params = {"type": "IMAGE", "pageSize": str(size), "page": "1"}
    async with (
        aiohttp.ClientSession() as session,
        AsyncArgil(api_key=key, base_url=base_url) as client,
    ):

        async def fetch() -> int:
            if variant == "sdk":
                return len(
                    (await client.assets.list(type="IMAGE", page_size=size).fetch_page(1)).items
                )
            if variant == "pages":  # the iteration path: cycle detection and page checks
                async for page in client.assets.list(type="IMAGE", page_size=size).pages():
                    return len(page.items)
            async with session.get(
                f"{base_url}/assets", params=params, headers={"x-api-key": key}
            ) as resp:
                return len(decoder.decode(await resp.read()))

        for i in range(20 + requests):
            if i == 20:
                callgrind(True)
            assert await fetch() == size
        callgrind(False)


def count(variant: str, size: int, requests: int, base_url: str, key: str) -> float:
    """Instructions per request of one variant, from callgrind's summary."""
    worker_args = ["--worker", variant, str(size), str(requests), base_url, key]
    return instructions_per_request(__file__, worker_args, requests)


def main(requests: int) -> None:
    with running_simulator(asset_processing_time=0.01) as (base_url, key):
        asyncio.run(_seed(base_url, key))
        for size in (20, 100):
            raw = count("raw", size, requests, base_url, key)
            sdk = count("sdk", size, requests, base_url, key)
            pages = count("pages", size, requests, base_url, key)
            print(
                f"page of {size}: instructions per request: aiohttp+msgspec {raw:,.0f}, "
                f"AsyncArgil fetch_page {sdk:,.0f} ({sdk / raw:.3f}x), "
                f"pages() {pages:,.0f} ({pages / raw:.3f}x)"
            )


async def _seed(base_url: str, key: str) -> None:
    async with AsyncArgil(api_key=key, base_url=base_url) as client:
        await seed_assets(client, 100)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        variant, size, requests, base_url, key = sys.argv[2:7]
        asyncio.run(worker(variant, int(size), int(requests), base_url, key))
        sys.exit()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    main(parser.parse_args().requests)

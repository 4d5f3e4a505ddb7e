"""openai-python's client CPU per request against AsyncArgil's: the same request, same server.

Both fetch page 1 of /assets (``type=IMAGE``) from the simulator, in another process, and
parse the JSON body: ``AsyncArgil`` through ``assets.list(...).fetch_page(1)`` (checks,
options, retries, decoding into models), ``openai.AsyncOpenAI`` through its generic
``client.get(path, cast_to=object)`` (its whole request pipeline over httpx, the body parsed
as JSON). Each round runs both in turns; the report gives the medians of this process's CPU
time per request (``time.process_time``) and openai's divided by ours (higher is better for
us). Needs ``pip install openai``; without it the script says so and exits.

    python benchmarks/bench_openai.py [--requests 300] [--rounds 7]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from _simproc import running_simulator
from bench_overhead import seed_assets

from argil_async import AsyncArgil

try:
    import openai
except ImportError:  # not a dependency of the SDK
    openai = None  # type: ignore[assignment]


async def cpu_per_request(call: Callable[[], Awaitable[int]], size: int, requests: int) -> float:
    """Microseconds of this process's CPU per request."""
    started = time.process_time()
    for _ in range(requests):
        assert await call() == size
    return (time.process_time() - started) / requests * 1e6


async def main(requests: int, rounds: int) -> None:
    assert openai is not None
    with running_simulator(asset_processing_time=0.01) as (base_url, key):
        async with (
            AsyncArgil(api_key=key, base_url=base_url) as argil,
            openai.AsyncOpenAI(
                api_key=key, base_url=base_url, default_headers={"x-api-key": key}
            ) as other,
        ):
            await seed_assets(argil, 100)
            for size in (20, 100):
                params = {"type": "IMAGE", "pageSize": size, "page": 1}

                async def ours(size: int = size) -> int:
                    page = await argil.assets.list(type="IMAGE", page_size=size).fetch_page(1)
                    return len(page.items)

                async def theirs(params: dict[str, object] = params) -> int:
                    body = await other.get("/assets", cast_to=object, options={"params": params})
                    return len(body)  # type: ignore[arg-type]

                calls = {"AsyncArgil": ours, "openai.AsyncOpenAI": theirs}
                for call in calls.values():  # warm up connections and caches
                    await cpu_per_request(call, size, 20)
                samples: dict[str, list[float]] = {name: [] for name in calls}
                for _ in range(rounds):
                    for name, call in calls.items():
                        samples[name].append(await cpu_per_request(call, size, requests))
                medians = {name: statistics.median(v) for name, v in samples.items()}
                print(f"page of {size} assets: client CPU per request (median of {rounds} rounds)")
                for name, value in medians.items():
                    print(f"  {name:<20} {value:8.1f} us")
                ratio = medians["openai.AsyncOpenAI"] / medians["AsyncArgil"]
                print(f"  openai CPU / ours:   {ratio:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    if openai is None:
        sys.exit("openai is not installed: pip install openai")
    asyncio.run(main(args.requests, args.rounds))

"""50 concurrent uploads against the 5-processing limit: wall time against the ideal.

The ideal is ceil(uploads / 5) x processing time: the limit's full throughput. The simulator
runs in a thread of this process (its counters are read at the end): 429s answered because of
the limit, and the most assets it ever saw processing at once.

    python benchmarks/bench_assets.py [--uploads 50] [--processing-time 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time

from argil_async import AsyncArgil
from argil_async.testing import ArgilSimulator


async def upload_all(base_url: str, key: str, uploads: int) -> float:
    """Upload ``uploads`` images at once, wait for all to be READY; return the wall time."""
    async with AsyncArgil(api_key=key, base_url=base_url) as client:
        started = time.perf_counter()
        assets = await asyncio.gather(
            *(
                client.assets.upload(name=f"b{i}", type="IMAGE", url=f"https://bench.test/{i}.png")
                for i in range(uploads)
            )
        )
        took = time.perf_counter() - started
    assert all(asset.status == "READY" for asset in assets)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--processing-time", type=float, default=1.0)
    args = parser.parse_args()
    with ArgilSimulator.in_thread(asset_processing_time=args.processing_time) as sim:
        took = asyncio.run(upload_all(sim.base_url, sim.api_key, args.uploads))
        limited, peak, requests = (
            sim.stats.asset_rate_limited,
            sim.stats.max_processing_assets,
            sim.stats.requests,
        )
    ideal = math.ceil(args.uploads / 5) * args.processing_time
    print(f"{args.uploads} uploads, processing {args.processing_time:g} s each, limit 5")
    print(f"  wall time   {took:6.2f} s   ideal {ideal:.2f} s   ratio {took / ideal:.3f}x")
    print(f"  429s        {limited}")
    print(f"  peak        {peak} processing at once")
    print(f"  API calls   {requests} ({requests / args.uploads:.1f} per upload)")


if __name__ == "__main__":
    main()

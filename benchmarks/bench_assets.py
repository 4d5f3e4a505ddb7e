"""50 concurrent uploads against the 5-processing limit: wall time against the ideal.

The ideal is ceil(uploads / 5) x processing time: the limit's full throughput, a bound no
client reaches. It leaves out what every client pays: the round trips (a POST per wave, the
poll that sees an asset finish), the first wave's discovery of the processing time (nothing is
known yet, so its end is found by backing-off polls) and the first call's one-time start (the
clock starts once the client is open, as a caller's would). The time over the ideal is split
into the first wave's and the mean of each later wave's (from when each upload returned). The
simulator runs in a thread of this process (its counters are read at the end): 429s answered
because of the limit, and the most assets it ever saw processing at once.

    python benchmarks/bench_assets.py [--uploads 50] [--processing-time 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import time

from argil_async import Asset, AsyncArgil
from argil_async.testing import ArgilSimulator


async def upload_all(base_url: str, key: str, uploads: int) -> tuple[float, list[float]]:
    """Upload ``uploads`` images at once, wait for all to be READY; return the wall time and
    when each upload returned (sorted)."""
    returned: list[float] = []
    async with AsyncArgil(api_key=key, base_url=base_url) as client:
        started = time.perf_counter()

        async def one(i: int) -> Asset:
            asset = await client.assets.upload(
                name=f"b{i}", type="IMAGE", url=f"https://bench.test/{i}.png"
            )
            returned.append(time.perf_counter() - started)
            return asset

        assets = await asyncio.gather(*(one(i) for i in range(uploads)))
        took = time.perf_counter() - started
    assert all(asset.status == "READY" for asset in assets)
    return took, sorted(returned)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--processing-time", type=float, default=1.0)
    args = parser.parse_args()
    with ArgilSimulator.in_thread(asset_processing_time=args.processing_time) as sim:
        took, returned = asyncio.run(upload_all(sim.base_url, sim.api_key, args.uploads))
        limited, peak, requests = (
            sim.stats.asset_rate_limited,
            sim.stats.max_processing_assets,
            sim.stats.requests,
        )
    waves = math.ceil(args.uploads / 5)
    ideal = waves * args.processing_time
    first = returned[min(4, len(returned) - 1)] - args.processing_time  # first wave's excess
    later = (took - returned[min(4, len(returned) - 1)]) / max(waves - 1, 1) - args.processing_time
    print(f"{args.uploads} uploads, processing {args.processing_time:g} s each, limit 5")
    print(f"  wall time   {took:6.2f} s   ideal {ideal:.2f} s   ratio {took / ideal:.3f}x")
    print(f"  over ideal  first wave {first * 1000:.0f} ms, each later wave {later * 1000:.0f} ms")
    print(f"  429s        {limited}")
    print(f"  peak        {peak} processing at once")
    print(f"  API calls   {requests} ({requests / args.uploads:.1f} per upload)")


if __name__ == "__main__":
    main()

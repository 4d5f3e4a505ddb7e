"""One process of a fleet: uploads assets through a RedisAssetLimiter shared by name.

    python tests/limits/fleet_worker.py BASE_URL API_KEY REDIS_URL NAME --uploads 25 --prefix w1

Prints ``posted <id>`` as each upload's POST is answered (its slot is then held), and a last
line of JSON: ``{"ready": n, "errors": [...]}``. Waits for a line on stdin first when
``--wait-for-go`` is given, so that process start-up is not part of a measurement.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from argil_async import AsyncArgil, RetryPolicy
from argil_async.limits import RedisAssetLimiter


async def upload_one(client: AsyncArgil, name: str, timeout: float) -> str:
    """Upload, say so once the POST is answered, wait until READY; the final status."""
    asset = await client.assets.upload(
        name=name, type="IMAGE", url=f"https://fleet.test/{name}.png", wait=False, timeout=timeout
    )
    print("posted", asset.id, flush=True)
    ready = await client.assets.wait_until_ready(asset.id, timeout=timeout, poll_interval=0.1)
    return ready.status


async def main(args: argparse.Namespace) -> None:
    limiter = RedisAssetLimiter(args.redis_url, name=args.name, lease_ttl=args.lease_ttl)
    policy = RetryPolicy(max_retries=args.max_retries, wait_scale=1.0)
    client = AsyncArgil(
        api_key=args.key, base_url=args.base_url, asset_limiter=limiter, retry_policy=policy
    )
    names = [f"{args.prefix}-{i}" for i in range(args.uploads)]
    async with client:
        outcomes = await asyncio.gather(
            *(upload_one(client, name, args.timeout) for name in names), return_exceptions=True
        )
    ready = sum(outcome == "READY" for outcome in outcomes)
    errors = [type(o).__name__ for o in outcomes if isinstance(o, BaseException)]
    print(json.dumps({"ready": ready, "errors": errors}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    for positional in ("base_url", "key", "redis_url", "name"):
        parser.add_argument(positional)
    parser.add_argument("--uploads", type=int, default=25)
    parser.add_argument("--prefix", default="w")
    parser.add_argument("--lease-ttl", type=float, default=30.0)
    parser.add_argument("--max-retries", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--wait-for-go", action="store_true")
    arguments = parser.parse_args()
    if arguments.wait_for_go:
        print("waiting", flush=True)
        sys.stdin.readline()
    asyncio.run(main(arguments))

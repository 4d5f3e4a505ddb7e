"""Upload B-roll from several processes at once, sharing the workspace's 5 slots via Redis.

Start it on as many machines or terminals as you like, all with the same Redis and name:

    ARGIL_REDIS_URL=redis://localhost:6379/0 python examples/fleet_upload.py URL [URL ...]
"""

import asyncio
import os
import sys
import time

from argil_async import AsyncArgil
from argil_async.limits import LimiterUnavailableError, RedisAssetLimiter


async def main(urls: list[str]) -> None:
    limiter = RedisAssetLimiter(os.environ["ARGIL_REDIS_URL"], name="my-workspace")
    async with AsyncArgil(asset_limiter=limiter) as client:
        started = time.perf_counter()
        try:
            assets = await asyncio.gather(
                *(
                    client.assets.upload(name=f"fleet-{i}", type="IMAGE", url=url)
                    for i, url in enumerate(urls)
                )
            )
        except LimiterUnavailableError as exc:
            sys.exit(f"Redis is down, nothing was uploaded past the limit: {exc}")
        for asset in assets:
            print(f"  {asset.id} {asset.status}")
        print(f"{len(assets)} uploads in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    given = sys.argv[1:] or [f"https://picsum.photos/seed/{i}/1280/720.jpg" for i in range(20)]
    asyncio.run(main(given))

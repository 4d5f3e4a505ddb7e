"""Upload many B-roll assets at once; the client keeps 5 processing at a time, never 429s.

python examples/bulk_upload.py URL [URL ...]      # or no URLs: 20 sample ones
"""

import asyncio
import sys
import time

from argil_async import AsyncArgil, GenerationFailedError


async def main(urls: list[str]) -> None:
    async with AsyncArgil() as client:
        started = time.perf_counter()

        async def upload(i: int, url: str) -> None:
            try:
                asset = await client.assets.upload(name=f"broll-{i}", type="IMAGE", url=url)
            except GenerationFailedError as exc:
                print(f"  {url}: processing failed ({exc})")
                return
            print(f"  {asset.id} READY after {time.perf_counter() - started:.1f} s")

        await asyncio.gather(*(upload(i, url) for i, url in enumerate(urls)))
        print(f"{len(urls)} uploads in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    given = sys.argv[1:] or [f"https://picsum.photos/seed/{i}/1280/720.jpg" for i in range(20)]
    asyncio.run(main(given))

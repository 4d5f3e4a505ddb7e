"""Create, render and download one video with the async client.

Against the simulator: run `python -m argil_async.testing --port 8080` and export the
ARGIL_BASE_URL and ARGIL_API_KEY it prints; against Argil: export your ARGIL_API_KEY.
"""

import asyncio
import sys

from argil_async import AsyncArgil, Moment


async def main(out: str) -> None:
    async with AsyncArgil() as client:
        avatar = (await client.avatars.list(visibility="public"))[0]
        video = await client.videos.create(
            name="Quickstart",
            moments=[
                Moment(avatar_id=avatar.id, transcript="Hello from argil_async!"),
                Moment(avatar_id=avatar.id, transcript="Rendering videos from Python is easy."),
            ],
        )
        await client.videos.render(video.id)
        video = await client.videos.wait_until_done(video.id, poll_interval=1.0)
        path = await client.videos.download(video, out)
        print(f"{video.id} {video.status}: {video.duration} s -> {path}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "quickstart.mp4"))

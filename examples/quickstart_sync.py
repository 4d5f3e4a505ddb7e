"""The same quickstart with the sync client: no asyncio, no await.

Against the simulator: run `python -m argil_async.testing --port 8080` and export the
ARGIL_BASE_URL and ARGIL_API_KEY it prints; against Argil: export your ARGIL_API_KEY.
"""

import sys

from argil_async import Argil, Moment


def main(out: str) -> None:
    with Argil() as client:
        avatar = client.avatars.list(visibility="public")[0]
        video = client.videos.create(
            name="Quickstart (sync)",
            moments=[Moment(avatar_id=avatar.id, transcript="Hello from a plain script!")],
        )
        client.videos.render(video.id)
        video = client.videos.wait_until_done(video.id, poll_interval=1.0)
        path = client.videos.download(video, out)
        for asset in client.assets.list(type="AUDIO"):  # pages are fetched as needed
            print("music track:", asset.name)
        print(f"{video.id} {video.status} -> {path}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "quickstart-sync.mp4")

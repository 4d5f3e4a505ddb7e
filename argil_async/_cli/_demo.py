"""``argil demo``: the whole workflow, end to end, printing one line per step.

With no ARGIL_API_KEY it starts the embedded simulator and says so; with a key it runs against
the real API after asking for confirmation (renders cost credits).
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import time
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import anyio

from .._client import AsyncArgil
from ..events import WebhookReceiver
from ..models import Broll, Moment, Subtitles, Video
from ._session import api_session

__all__ = ["DemoOptions", "make_png", "run_demo"]

SAMPLE_BROLL_URL = "https://upload.wikimedia.org/wikipedia/commons/3/3f/Fronalpstock_big.jpg"


@dataclass
class DemoOptions:
    """What the demo needs to know; ``ARGIL_API_KEY`` picks the API (else the simulator)."""

    out_dir: Path
    broll_url: str = SAMPLE_BROLL_URL
    assume_yes: bool = False
    stream: TextIO = sys.stdout


class _Steps:
    """Prints ``[n] what ... result (seconds)`` for each step of the demo."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.number = 0
        self.started = time.perf_counter()

    @contextlib.asynccontextmanager
    async def step(self, what: str) -> AsyncIterator[Callable[[str], None]]:
        self.number += 1
        began = time.perf_counter()
        result: list[str] = []
        yield result.append
        took = time.perf_counter() - began
        detail = f": {result[0]}" if result else ""
        print(f"[{self.number}] {what}{detail} ({took:.2f} s)", file=self.stream, flush=True)

    def done(self) -> None:
        took = time.perf_counter() - self.started
        print(f"Done in {took:.1f} s.", file=self.stream, flush=True)


def make_png(width: int = 1280, height: int = 720) -> bytes:
    """A ``width`` x ``height`` RGB PNG (a soft gradient), built with the standard library."""
    green = bytes(90 + 100 * x // width for x in range(width))
    rows = bytearray()
    for y in range(height):
        shade = 60 + 120 * y // height
        row = bytearray(3 * width)
        row[0::3] = bytes([shade]) * width
        row[1::3] = green
        row[2::3] = bytes([200 - shade // 2]) * width
        rows += b"\x00" + row  # filter type 0 (none) starts each scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"IDAT", zlib.compress(bytes(rows), 6)),
            chunk(b"IEND", b""),
        )
    )


async def run_demo(options: DemoOptions) -> Video:
    """Run the workflow against the simulator (no key) or the real API (key, confirmed)."""
    out = options.stream
    if os.environ.get("ARGIL_API_KEY") and not options.assume_yes and not _confirm(out):
        raise SystemExit("Cancelled: nothing was created.")
    async with api_session(
        json_output=False, simulator_config=_SIMULATOR_TIMINGS, stream=out, demo=True
    ) as session:
        simulated = session.simulator is not None
        if not simulated:
            print(f"Using the Argil API at {session.client.base_url}.", file=out, flush=True)
        return await _workflow(
            session.client, options, poll=0.25 if simulated else 5.0, local_callbacks=simulated
        )


# Short enough for a demo that finishes in seconds; the real API takes minutes.
_SIMULATOR_TIMINGS = {
    "avatar_training_time": 1.0,
    "asset_processing_time": 1.0,
    "render_audio_time": 1.0,
    "render_video_time": 1.5,
}


def _confirm(out: TextIO) -> bool:
    print(
        "ARGIL_API_KEY is set: this demo creates an avatar and renders a video, which costs "
        "credits. Continue? [y/N] ",
        end="",
        file=out,
        flush=True,
    )
    try:
        return input().strip().lower() in ("y", "yes")
    except EOFError:
        return False


async def _workflow(
    client: AsyncArgil, options: DemoOptions, *, poll: float, local_callbacks: bool
) -> Video:
    steps = _Steps(options.stream)
    async with steps.step("Create an avatar from a generated 1280x720 PNG") as said:
        avatar = await client.avatars.create(name="Demo presenter", image=make_png())
        said(f"{avatar.id} {avatar.status}")
    async with steps.step("Wait until the avatar is trained") as said:
        avatar = await client.avatars.wait_until_ready(avatar.id, poll_interval=poll)
        said(f"{avatar.status}")
    async with steps.step("Upload a B-roll image and wait until it is processed") as said:
        broll = await client.assets.upload(name="Demo B-roll", type="IMAGE", url=options.broll_url)
        said(f"{broll.id} {broll.status}")
    async with steps.step("Pick a voice, a subtitle style and a music track") as said:
        voice, style, music = await _pick_extras(client)
        said(f"voice {voice}, style {style}, music {music}")
    async with steps.step("Create a video of three moments") as said:
        video = await client.videos.create(
            name="argil_async demo",
            moments=[
                Moment(avatar_id=avatar.id, voice_id=voice, transcript="Hello from argil_async."),
                Moment(
                    avatar_id=avatar.id,
                    voice_id=voice,
                    transcript="This moment shows B-roll.",
                    broll=Broll(asset_id=broll.id),
                ),
                Moment(avatar_id=avatar.id, voice_id=voice, transcript="Thanks for watching!"),
            ],
            subtitles=Subtitles(style_id=style),
            background_music={"assetId": music, "volume": 0.14} if music else None,
            extras={"source": "argil-demo"},
        )
        said(f"{video.id} {video.status}")
    video = await _render_and_wait(client, video, steps, poll=poll, local=local_callbacks)
    await _collect(client, video, steps, options.out_dir)
    steps.done()
    return video


async def _pick_extras(client: AsyncArgil) -> tuple[str | None, str | None, str | None]:
    voices = await client.voices.list()
    styles = await client.subtitles.list(page_size=10).to_list(limit=1)
    tracks = await client.assets.list(type="AUDIO").to_list(limit=1)
    return (
        voices[0].id if voices else None,
        styles[0].id if styles else None,
        tracks[0].id if tracks else None,
    )


async def _render_and_wait(
    client: AsyncArgil, video: Video, steps: _Steps, *, poll: float, local: bool
) -> Video:
    if not local:
        async with steps.step("Render (polling: a local callback cannot be reached)") as said:
            await client.videos.render(video.id)
            video = await client.videos.wait_until_done(video.id, poll_interval=poll)
            said(f"{video.status}")
        return video
    receiver = WebhookReceiver()
    async with receiver.serve() as callback_url:
        async with steps.step("Render with a callback to a local webhook receiver") as said:
            rendering = await client.videos.render(video.id, callback_url=callback_url)
            said(f"{rendering.status}")
        async with steps.step("Wait for the VIDEO_GENERATION_SUCCESS event") as said:
            event = await receiver.wait_for_video(video.id, timeout=600)
            said(f"{type(event).__name__}")
        await receiver.aclose()
    return await client.videos.wait_until_done(video.id, poll_interval=poll)


async def _collect(client: AsyncArgil, video: Video, steps: _Steps, out_dir: Path) -> None:
    await anyio.Path(out_dir).mkdir(parents=True, exist_ok=True)
    async with steps.step("Export the subtitles as WebVTT") as said:
        text = await client.subtitles.export(video.id, format="vtt")
        path = out_dir / f"{video.id}.vtt"
        await anyio.Path(path).write_text(text, encoding="utf-8")
        said(f"{len(text.splitlines())} lines -> {path}")
    async with steps.step("Download the video") as said:
        sizes: list[int] = []
        target = await client.videos.download(video, out_dir, progress=lambda n, _: sizes.append(n))
        said(f"{sizes[-1] if sizes else 0} bytes -> {target}")

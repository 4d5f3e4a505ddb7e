"""Every operation of argil-openapi.yaml is exercised through the SDK with spec checking on."""

from __future__ import annotations

import warnings
from pathlib import Path

import yaml

from argil_async import AsyncArgil, Moment
from argil_async._cli._demo import make_png
from argil_async.testing import ArgilSimulator

SPEC = Path(__file__).parents[1] / "data" / "argil-openapi.yaml"
PNG = make_png()  # 1280x720: the smallest size Argil accepts


def _operations() -> set[str]:
    paths = yaml.safe_load(SPEC.read_text())["paths"]
    return {f"{method.upper()} {path}" for path, item in paths.items() for method in item}


async def _every_call(client: AsyncArgil) -> None:
    """One call per operation, in an order that makes each one meaningful."""
    avatar = (await client.avatars.list())[0]
    await client.avatars.get(avatar.id)
    made = await client.avatars.create(name="cover", image=PNG, callback_url="https://h.test/a")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        await client.avatars.create_from_video(
            name="old",
            dataset_video_url="https://v.test/d.mp4",
            consent_video_url="https://v.test/c.mp4",
        )
    await client.avatars.wait_until_ready(made.id, poll_interval=0.01)
    voice = (await client.voices.list())[0]
    await client.voices.get(voice.id)
    await client.voices.create(name="clone", audio_url="https://a.test/v.mp3")
    asset = await client.assets.upload(name="b", type="IMAGE", url="https://x.test/b.png")
    await client.assets.list(type="IMAGE").to_list()
    await client.assets.delete(asset.id)
    video = await client.videos.create(
        name="cover", moments=[Moment(avatar_id=avatar.id, transcript="Covering every route.")]
    )
    await client.videos.render(video.id)
    await client.videos.wait_until_done(video.id, poll_interval=0.01)
    await client.videos.list().to_list()
    await client.subtitles.list().to_list()
    await client.subtitles.export(video.id, format="ass")
    await client.videos.delete(video.id)
    hook = await client.webhooks.create(
        callback_url="https://h.test/x", events=["AVATAR_TRAINING_SUCCESS"]
    )
    await client.webhooks.list()
    await client.webhooks.update(hook.id, callback_url="https://h.test/y")
    await client.webhooks.delete(hook.id)


async def test_every_operation_is_covered_and_valid(sim: ArgilSimulator, client: AsyncArgil):
    """The SDK reaches all 21 operations with 2xx answers; the fixture validates each exchange."""
    await _every_call(client)
    seen = {route for route in sim.stats.by_route if not route.endswith("<unmatched>")}
    operations = _operations()
    assert len(operations) == 21
    assert operations <= seen, f"not exercised: {sorted(operations - seen)}"

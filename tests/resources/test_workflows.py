"""The workflows: the 5-asset limiter, waiters, callbacks, downloads and the demo."""

from __future__ import annotations

import asyncio
import contextlib
import io

import anyio
import pytest
from support.client_fixtures import client_for
from support.fakes import json_response, scripted_client

from argil_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncArgil,
    GenerationFailedError,
    InvalidRequestError,
    Moment,
    NotFoundError,
    Timeout,
    Video,
    WaitTimeoutError,
)
from argil_async._cli._demo import DemoOptions, make_png, run_demo
from argil_async.events import (
    AvatarTrainingFailed,
    AvatarTrainingSucceeded,
    VideoGenerationFailed,
    VideoGenerationSucceeded,
    WebhookReceiver,
)
from argil_async.limits._local import Lease


async def _video(argil: AsyncArgil, **extras: str) -> str:
    avatar_id = (await argil.avatars.list(visibility="public"))[0].id
    video = await argil.videos.create(
        name="w", moments=[Moment(avatar_id=avatar_id, transcript="Hi.")], extras=extras or None
    )
    return video.id


async def _rendered(argil: AsyncArgil) -> Video:
    """A video created, rendered and waited for until DONE."""
    video_id = await _video(argil)
    await argil.videos.render(video_id)
    return await argil.videos.wait_until_done(video_id, poll_interval=0.01)


async def test_thirty_uploads_run_five_at_a_time_without_429(sim_factory):
    """30 concurrent uploads all end READY, 5 processing at once, and no 429 is provoked."""
    sim = await sim_factory(asset_processing_time=0.05)
    async with client_for(sim) as argil:
        assets = await asyncio.gather(
            *(
                argil.assets.upload(name=f"a{i}", type="IMAGE", url=f"https://x.test/{i}.png")
                for i in range(30)
            )
        )
    assert all(a.status == "READY" for a in assets)
    assert len({a.id for a in assets}) == 30
    assert sim.stats.max_processing_assets == 5
    assert sim.stats.asset_rate_limited == 0


async def test_upload_survives_another_process_filling_the_limit(sim_factory):
    """A 429 from assets uploaded by someone else is waited out, then the upload succeeds."""
    sim = await sim_factory(asset_processing_time=1.0)  # 5 POSTs fit in it on a loaded machine
    async with client_for(sim) as other, client_for(sim) as ours:
        for i in range(5):
            await other.assets.upload(
                name=f"o{i}", type="IMAGE", url=f"https://o.test/{i}", wait=False
            )
        asset = await ours.assets.upload(name="mine", type="IMAGE", url="https://m.test/1.png")
    assert asset.status == "READY"
    assert sim.stats.asset_rate_limited >= 1


async def test_upload_survives_injected_429s_without_client_retries(sim_factory):
    """Injected 429s on POST /assets are waited out by upload itself, even with max_retries=0."""
    sim = await sim_factory(
        rate_limit_every=2,
        retry_after=0.05,
        fault_methods=frozenset({"POST"}),
        fault_path_prefix="/assets",
    )
    async with client_for(sim, max_retries=0) as argil:
        assets = await asyncio.gather(
            *(
                argil.assets.upload(name=f"r{i}", type="IMAGE", url=f"https://r.test/{i}.png")
                for i in range(6)
            )
        )
    assert all(a.status == "READY" for a in assets)
    assert sim.stats.injected_429 >= 3


async def test_wait_false_returns_processing_and_get_frees_the_slot(sim_factory):
    """upload(wait=False) returns PROCESSING at once; a later get that sees READY frees the slot."""
    sim = await sim_factory(asset_processing_time=0.05)
    async with client_for(sim, asset_concurrency=1) as argil:
        asset = await argil.assets.upload(
            name="n", type="IMAGE", url="https://x.test/n", wait=False
        )
        assert asset.status == "PROCESSING"
        assert argil._asset_limiter.in_use == 1
        ready = await argil.assets.wait_until_ready(asset.id, poll_interval=0.01)
        assert ready.status == "READY"
        assert argil._asset_limiter.in_use == 0


async def test_failed_asset_raises_generation_failed(client: AsyncArgil):
    """An asset that ends FAILED makes upload raise GenerationFailedError with the asset."""
    with pytest.raises(GenerationFailedError) as info:
        await client.assets.upload(
            name="f", type="IMAGE", url="https://x.test/f?sim_outcome=FAILED"
        )
    assert info.value.resource.status == "FAILED"
    assert client._asset_limiter.in_use == 0


@pytest.mark.parametrize("outcome", ["FAILED", "CONTENT_MODERATED"])
async def test_failed_render_raises_generation_failed(client: AsyncArgil, outcome: str):
    """A render that ends FAILED or CONTENT_MODERATED raises GenerationFailedError."""
    video_id = await _video(client, simOutcome=outcome)
    await client.videos.render(video_id)
    with pytest.raises(GenerationFailedError) as info:
        await client.videos.wait_until_done(video_id, poll_interval=0.01)
    assert info.value.resource.status == outcome


async def test_failed_training_raises_generation_failed(client: AsyncArgil):
    """An avatar refused by moderation raises GenerationFailedError from the waiter."""
    avatar = await client.avatars.create(
        name="r", image=make_png(1280, 720), extras={"simOutcome": "REFUSED"}
    )
    with pytest.raises(GenerationFailedError, match="REFUSED"):
        await client.avatars.wait_until_ready(avatar.id, poll_interval=0.01)


async def test_wait_timeout_carries_last_object(sim_factory):
    """A render slower than the deadline raises WaitTimeoutError holding the last video seen."""
    sim = await sim_factory(render_audio_time=5)
    async with client_for(sim) as argil:
        video_id = await _video(argil)
        await argil.videos.render(video_id)
        with pytest.raises(WaitTimeoutError) as info:
            await argil.videos.wait_until_done(video_id, timeout=0.2, poll_interval=0.02)
    assert info.value.last.status == "GENERATING_AUDIO"
    assert isinstance(info.value, TimeoutError)


async def test_waiting_is_cancellable(sim_factory):
    """Cancelling a waiter stops it promptly."""
    sim = await sim_factory(render_audio_time=5)
    async with client_for(sim) as argil:
        video_id = await _video(argil)
        await argil.videos.render(video_id)
        with anyio.move_on_after(0.2) as scope:
            await argil.videos.wait_until_done(video_id, poll_interval=0.05)
    assert scope.cancelled_caught


async def test_render_callback_reaches_the_receiver(client: AsyncArgil):
    """A render's callback URL delivers the success event to a local receiver."""
    receiver = WebhookReceiver()
    async with receiver.serve() as url:
        video_id = await _video(client)
        await client.videos.render(video_id, callback_url=url)
        event = await receiver.wait_for_video(video_id, timeout=10)
        await receiver.aclose()
    assert isinstance(event, VideoGenerationSucceeded)
    assert event.video_url


@pytest.mark.parametrize("outcome", [None, "TRAINING_FAILED"])
async def test_avatar_callback_reaches_the_receiver_once(sim, client: AsyncArgil, outcome):
    """avatars.create(callback_url=) gets one training event, success or failure, and no more."""
    receiver = WebhookReceiver()
    extras = {"simOutcome": outcome} if outcome else None
    async with receiver.serve() as url:
        avatar = await client.avatars.create(
            name="Ada", image=make_png(), callback_url=url, extras=extras
        )
        event = await receiver.wait_for_avatar(avatar.id, timeout=10)
        await sim.drain()
        await receiver.aclose()
    expected = AvatarTrainingFailed if outcome else AvatarTrainingSucceeded
    assert isinstance(event, expected)
    assert [(d.url, d.status) for d in sim.deliveries] == [(url, 200)]
    assert receiver.received == 1


async def test_avatar_callback_must_be_https(sim, client: AsyncArgil):
    """A plain-http callback to a remote host is refused before anything is sent."""
    with pytest.raises(InvalidRequestError, match="callback_url: must be an https:// URL"):
        await client.avatars.create(
            name="Ada", image=make_png(), callback_url="http://example.com/hook"
        )
    assert sim.stats.by_route["POST /avatars"] == 0


async def test_registered_webhook_receives_failure(client: AsyncArgil):
    """A registered webhook receives VIDEO_GENERATION_FAILED with the video's extras."""
    receiver = WebhookReceiver()
    async with receiver.serve() as url:
        await client.webhooks.create(callback_url=url, events=["VIDEO_GENERATION_FAILED"])
        video_id = await _video(client, simOutcome="FAILED", job="j-1")
        await client.videos.render(video_id)
        event = await receiver.wait_for_video(video_id, timeout=10)
        await receiver.aclose()
    assert isinstance(event, VideoGenerationFailed)
    assert event.extras["job"] == "j-1"


async def test_download_is_atomic_when_connection_drops(sim_factory, tmp_path):
    """A download cut mid-file raises and leaves no file, partial or final."""
    sim = await sim_factory(drop_download_after=10_000, video_file_size=100_000)
    async with client_for(sim) as argil:
        video = await _rendered(argil)
        with pytest.raises(APIConnectionError):
            await argil.videos.download(video, tmp_path / "out.mp4")
    assert list(tmp_path.iterdir()) == []


async def test_download_reports_progress(client: AsyncArgil, tmp_path):
    """Progress is reported up to the full Content-Length."""
    video_id = (await _rendered(client)).id
    seen: list[tuple[int, int | None]] = []
    path = await client.videos.download(
        video_id, tmp_path / "v.mp4", progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (path.stat().st_size, path.stat().st_size)


@pytest.mark.parametrize("odd_id", ["ü", "a/b"])
async def test_download_by_id_quotes_the_id_once(sim_factory, tmp_path, odd_id: str):
    """download(id) fetches GET /videos/{id} with the id percent-encoded once, not twice."""
    # The OpenAPI checker matches the decoded path, where "a/b" reads as two segments.
    sim = await sim_factory(check_spec=False)
    async with client_for(sim) as argil:
        video = await _rendered(argil)
        sim.state.videos[odd_id] = sim.state.videos[video.id]  # the same video, an odd id too
        path = await argil.videos.download(odd_id, tmp_path / "v.mp4")
    assert path.stat().st_size > 0
    gets = [r for r in sim.received if r.route == "GET /videos/{id}"]
    assert gets[-1].path_params == {"id": odd_id}


@pytest.mark.parametrize("video_id", ["../escaped", "..", "sub/dir", "/abs"])
async def test_download_into_a_directory_stays_inside_it(tmp_path, video_id: str):
    """An id from the server never makes download(video, directory) write outside it."""
    inside = tmp_path / "inside"
    inside.mkdir()
    client, transport = scripted_client()
    transport.files["https://cdn.test/v.mp4"] = b"mp4 bytes"
    video = Video(id=video_id, status="DONE", video_url="https://cdn.test/v.mp4")
    path = await client.videos.download(video, inside)
    assert path.parent == inside
    assert path.read_bytes() == b"mp4 bytes"
    assert [p.name for p in tmp_path.iterdir()] == ["inside"]


@pytest.mark.slow
async def test_demo_completes_against_the_simulator(tmp_path, monkeypatch):
    """The demo runs the whole workflow on the embedded simulator and writes its files."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    out = io.StringIO()
    video = await run_demo(DemoOptions(out_dir=tmp_path, stream=out))
    text = out.getvalue()
    assert text.startswith("No ARGIL_API_KEY set: running against the embedded simulator")
    assert "[9] Download the video" in text
    assert video.status == "DONE"
    assert (tmp_path / f"{video.id}.vtt").read_text().startswith("WEBVTT")
    assert (tmp_path / f"{video.id}.mp4").stat().st_size > 0


async def test_upload_timeout_bounds_the_wait_for_a_slot(sim_factory):
    """An upload that cannot get a slot before its timeout raises WaitTimeoutError."""
    sim = await sim_factory(asset_processing_time=5)
    async with client_for(sim, asset_concurrency=1) as argil:
        await argil.assets.upload(name="a", type="IMAGE", url="https://x.test/a", wait=False)
        with pytest.raises(WaitTimeoutError, match="slot"):
            await argil.assets.upload(name="b", type="IMAGE", url="https://x.test/b", timeout=0.1)
    assert sim.stats.by_route["POST /assets"] == 1


async def test_slot_granted_at_the_deadline_is_not_leaked():
    """A slot that arrives just as the upload's timeout fires is used or given back, never lost."""
    client, _ = scripted_client(json_response(201, {"id": "a1", "status": "READY"}))
    limiter = client._asset_limiter
    take = limiter.acquire

    async def late_acquire() -> Lease:
        with anyio.CancelScope(shield=True):
            await anyio.sleep(0.05)  # the slot frees up only after the deadline
        return await take()

    limiter.acquire = late_acquire  # type: ignore[method-assign]
    with contextlib.suppress(WaitTimeoutError):
        await client.assets.upload(
            name="n", type="IMAGE", url="https://x.test/n", wait=False, timeout=0.01
        )
    assert limiter.in_use == 0


async def test_deleting_or_losing_a_processing_asset_frees_its_slot():
    """A processing upload that is deleted, or that the server no longer knows, frees its slot."""
    processing = json_response(201, {"id": "a1", "status": "PROCESSING"})
    gone = json_response(404, {"code": 404, "message": "Asset not found"})
    client, _ = scripted_client(
        processing, json_response(200, {"message": "Asset deleted"}), processing, gone
    )
    limiter = client._asset_limiter
    await client.assets.upload(name="n", type="IMAGE", url="https://x.test/n", wait=False)
    await client.assets.delete("a1")
    assert limiter.in_use == 0
    await client.assets.upload(name="n", type="IMAGE", url="https://x.test/n", wait=False)
    with pytest.raises(NotFoundError):
        await client.assets.get("a1")
    assert limiter.in_use == 0


async def test_waiting_on_a_finished_asset_teaches_nothing(client: AsyncArgil):
    """A wait whose first poll already sees READY leaves the processing estimate alone."""
    asset = await client.assets.upload(name="e", type="IMAGE", url="https://x.test/e.png")
    learnt = client._asset_limiter.expected_processing
    assert learnt is not None
    assert learnt > 0.01
    await client.assets.wait_until_ready(asset.id)
    assert client._asset_limiter.expected_processing == learnt


@pytest.mark.parametrize(
    "timeout",
    [Timeout(connect=5, read=30, total=0.5), 0.3],
    ids=["total-deadline", "seconds-without-data"],
)
async def test_download_timeout_covers_the_file_stream(sim_factory, tmp_path, timeout):
    """A per-call timeout stops a stalled file download: APITimeoutError and no file left."""
    sim = await sim_factory(stall_download_after=10_000, video_file_size=100_000)
    async with client_for(sim) as argil:
        video = await _rendered(argil)
        with pytest.raises(APITimeoutError):
            await argil.videos.download(video, tmp_path / "out.mp4", timeout=timeout)
    assert list(tmp_path.iterdir()) == []


async def test_download_timeout_from_with_options_covers_the_file(sim_factory, tmp_path):
    """A timeout set by with_options() also bounds the file download (by id)."""
    sim = await sim_factory(stall_download_after=1, video_file_size=100_000)
    async with client_for(sim) as argil:
        video_id = (await _rendered(argil)).id
        patient = argil.with_options(timeout=Timeout(total=0.5))
        with pytest.raises(APITimeoutError):
            await patient.videos.download(video_id, tmp_path)
    assert list(tmp_path.iterdir()) == []

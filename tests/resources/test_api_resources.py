"""Every endpoint end to end against the simulator (traffic is also checked against OpenAPI)."""

from __future__ import annotations

import json
import warnings

import pytest
from support.client_fixtures import client_for

from argil_async import (
    AsyncArgil,
    AuthenticationError,
    BadRequestError,
    InvalidRequestError,
    Moment,
    NotFoundError,
    Subtitles,
)
from argil_async._cli._demo import make_png
from argil_async._options import OPTION_NAMES
from argil_async._resources import voices as voices_module
from argil_async.models import VoiceSettings
from argil_async.testing import ArgilSimulator

PNG = make_png()  # 1280x720: the smallest size Argil accepts


async def _public_avatar(client: AsyncArgil) -> str:
    avatars = await client.avatars.list(visibility="public")
    return avatars[0].id


async def test_wrong_key_is_authentication_error(sim: ArgilSimulator):
    """A wrong API key gets AuthenticationError (401) and is not retried."""
    async with AsyncArgil(api_key="wrong", base_url=sim.base_url) as bad:
        with pytest.raises(AuthenticationError) as info:
            await bad.voices.list()
    assert info.value.status_code == 401
    assert sim.stats.requests == 1


async def test_avatars_list_get_and_filters(client: AsyncArgil):
    """Avatars are listed (filters sent), fetched by id, and carry gestures."""
    public = await client.avatars.list(visibility="public")
    assert public
    assert all(a.status == "IDLE" for a in public)
    wide = await client.avatars.list(orientation="ASPECT_RATIO_16_9")
    assert all(a.orientation == "ASPECT_RATIO_16_9" for a in wide)
    one = await client.avatars.get(public[0].id)
    assert one.id == public[0].id
    assert one.gestures
    assert one.created_at is not None


async def test_avatar_from_image_bytes_trains_to_idle(client: AsyncArgil):
    """An image avatar starts TRAINING and the waiter returns it IDLE."""
    avatar = await client.avatars.create(name="Ada", image=PNG, extras={"team": "a"})
    assert avatar.status == "TRAINING"
    ready = await client.avatars.wait_until_ready(avatar.id, poll_interval=0.01)
    assert ready.status == "IDLE"
    assert ready.extras == {"team": "a"}


async def test_avatar_from_image_url_and_file(client: AsyncArgil, tmp_path):
    """Avatars can be created from an https URL and from a file path."""
    by_url = await client.avatars.create(name="Url", image_url="https://img.test/a.png")
    path = tmp_path / "face.png"
    path.write_bytes(PNG)
    by_file = await client.avatars.create(name="File", image=path)
    assert {by_url.status, by_file.status} <= {"TRAINING", "NOT_TRAINED"}


async def test_deprecated_video_avatar_warns_and_trains(client: AsyncArgil):
    """create_from_video emits a DeprecationWarning and the avatar trains to IDLE."""
    with pytest.warns(DeprecationWarning, match="deprecated"):
        avatar = await client.avatars.create_from_video(
            name="Old",
            dataset_video_url="https://v.test/d.mp4",
            consent_video_url="https://v.test/c.mp4",
        )
    assert avatar.status == "NOT_TRAINED"
    ready = await client.avatars.wait_until_ready(avatar.id, poll_interval=0.01)
    assert ready.status == "IDLE"


async def test_voices_list_get_create(client: AsyncArgil):
    """Voices are listed and filtered, fetched, and cloned with settings."""
    voices = await client.voices.list()
    assert len(voices) >= 2
    french = await client.voices.list(language="FRENCH")
    assert all(v.language == "FRENCH" for v in french)
    assert (await client.voices.get(voices[0].id)).name == voices[0].name
    made = await client.voices.create(
        name="Clone", audio_url="https://a.test/me.mp3", model_id="eleven_v3", voice_speed=1.1
    )
    assert made.name == "Clone"
    assert made.id in {v.id for v in await client.voices.list()}


async def test_voice_settings_typo_is_refused_and_extra_body_is_sent(
    sim: ArgilSimulator, client: AsyncArgil
):
    """An unknown voice setting raises before sending; extra_body carries a new one as given."""
    typo = {"remove_backgroud_noise": True}
    with pytest.raises(InvalidRequestError, match="remove_backgroud_noise: is not a voice setting"):
        await client.voices.create(name="Clone", audio_url="https://a.test/me.mp3", **typo)  # type: ignore[arg-type]
    assert sim.stats.by_route["POST /voices"] == 0
    await client.voices.create(
        name="Clone",
        audio_url="https://a.test/me.mp3",
        voice_speed=1.1,
        speaker_boost=False,
        extra_body={"removeBackgroundNoise": True},
    )
    sent = json.loads(sim.received[-1].body)
    assert sent == {
        "name": "Clone",
        "audioUrl": "https://a.test/me.mp3",
        "voiceSpeed": 1.1,
        "speakerBoost": False,
        "removeBackgroundNoise": True,
    }


def test_voice_setting_rules_cover_the_typed_settings():
    """Every VoiceSettings key (but the request options) has a runtime rule, and no more."""
    settings = set(VoiceSettings.__optional_keys__) - OPTION_NAMES
    assert settings == set(voices_module._SETTING_RULES)


async def test_assets_upload_get_list_delete(client: AsyncArgil):
    """An upload becomes READY, appears in listings, and disappears when deleted."""
    asset = await client.assets.upload(name="b", type="IMAGE", url="https://x.test/b.png")
    assert asset.status == "READY"
    assert asset.file_url
    listed = [a.id async for a in client.assets.list(type=["IMAGE", "VIDEO"])]
    assert asset.id in listed
    await client.assets.delete(asset.id)
    with pytest.raises(NotFoundError):
        await client.assets.get(asset.id)
    with pytest.raises(NotFoundError):
        await client.assets.delete(asset.id)


async def test_duplicate_upload_returns_existing_asset(client: AsyncArgil):
    """Uploading the same URL twice returns the same asset."""
    first = await client.assets.upload(name="d", type="VIDEO", url="https://x.test/d.mp4")
    again = await client.assets.upload(name="d", type="VIDEO", url="https://x.test/d.mp4")
    assert again.id == first.id


async def test_music_tracks_are_audio_assets(client: AsyncArgil):
    """The system library lists AUDIO tracks usable as background music."""
    tracks = await client.assets.list(type="AUDIO").to_list()
    assert tracks
    assert all(t.type == "AUDIO" for t in tracks)


async def test_video_lifecycle(client: AsyncArgil, tmp_path):
    """Create, get, list by filters, render, wait, export, download and delete a video."""
    avatar_id = await _public_avatar(client)
    style = (await client.subtitles.list().to_list(limit=1))[0]
    video = await client.videos.create(
        name="Lifecycle demo",
        moments=[
            Moment(avatar_id=avatar_id, transcript="Hello there."),
            {"avatarId": avatar_id, "transcript": "Second moment."},
        ],
        subtitles=Subtitles(style_id=style.id),
        aspect_ratio="16:9",
        extras={"job": "life-1"},
    )
    assert video.status == "IDLE"
    assert (await client.videos.get(video.id)).name == "Lifecycle demo"
    found = await client.videos.list(extras_filter={"job": "life-1"}).to_list()
    assert [v.id for v in found] == [video.id]
    named = await client.videos.list(name_search_query="LIFECYCLE").to_list()
    assert video.id in {v.id for v in named}
    rendering = await client.videos.render(video.id)
    assert rendering.status in {"GENERATING_AUDIO", "GENERATING_VIDEO"}
    done = await client.videos.wait_until_done(video.id, poll_interval=0.01)
    assert done.video_url
    assert done.video_url_subtitled
    assert done.duration
    vtt = await client.subtitles.export(video.id)
    assert vtt.startswith("WEBVTT")
    ass = await client.subtitles.export(video.id, format="ass", include_styling=True)
    assert "[Script Info]" in ass
    path = await client.videos.download(done, tmp_path)
    assert path.stat().st_size > 0
    await client.videos.delete(video.id)
    with pytest.raises(NotFoundError):
        await client.videos.get(video.id)


async def test_server_validation_error_is_bad_request(client: AsyncArgil):
    """A video whose avatar does not exist is rejected by the server with a 400."""
    with pytest.raises(BadRequestError) as info:
        await client.videos.create(name="x", moments=[Moment(avatar_id="nope", transcript="hi")])
    assert info.value.status_code == 400
    assert info.value.request_id


async def test_render_twice_is_rejected(client: AsyncArgil):
    """Rendering a video that is already rendering is a 400."""
    avatar_id = await _public_avatar(client)
    video = await client.videos.create(
        name="r", moments=[Moment(avatar_id=avatar_id, transcript="a")]
    )
    await client.videos.render(video.id)
    with pytest.raises(BadRequestError):
        await client.videos.render(video.id)


async def test_subtitle_styles_paginate(client: AsyncArgil):
    """Subtitle styles come in envelope pages and iterate completely."""
    pages = [page async for page in client.subtitles.list(page_size=4).pages()]
    styles = [s for page in pages for s in page.items]
    assert len(pages) == pages[0].total_pages
    assert len(styles) == pages[0].total_count
    assert len({s.id for s in styles}) == len(styles)


async def test_webhooks_crud(client: AsyncArgil):
    """Webhooks are created, listed, partially updated and deleted (204)."""
    hook = await client.webhooks.create(
        callback_url="https://hooks.test/a", events=["VIDEO_GENERATION_SUCCESS"]
    )
    assert hook.events == ["VIDEO_GENERATION_SUCCESS"]
    assert hook.id in {h.id for h in await client.webhooks.list()}
    updated = await client.webhooks.update(hook.id, events=["VIDEO_GENERATION_FAILED"])
    assert updated.callback_url == "https://hooks.test/a"
    assert updated.events == ["VIDEO_GENERATION_FAILED"]
    await client.webhooks.delete(hook.id)
    assert hook.id not in {h.id for h in await client.webhooks.list()}
    with pytest.raises(NotFoundError):
        await client.webhooks.delete(hook.id)


async def test_create_at_spelling_is_tolerated(sim_factory):
    """Objects sent with the docs' createAt spelling still fill created_at."""
    sim = await sim_factory(created_at_key="createAt", check_spec=False)
    async with client_for(sim) as argil:
        avatar = (await argil.avatars.list())[0]
        voice = (await argil.voices.list())[0]
        asset = await argil.assets.upload(name="n", type="IMAGE", url="https://x.test/a.png")
        listed = [a async for a in argil.assets.list(type="IMAGE")]
        video = await argil.videos.create(
            name="v", moments=[Moment(transcript="Hi", avatar_id=avatar.id, voice_id=voice.id)]
        )
        videos = await argil.videos.list().to_list()
    assert avatar.created_at is not None
    assert voice.created_at is not None
    assert asset.created_at is not None
    assert listed
    assert all(a.created_at is not None for a in listed)
    assert video.created_at is not None
    assert videos
    assert all(v.created_at is not None for v in videos)


async def test_no_unclosed_session_warning(sim: ArgilSimulator):
    """A client used and closed leaves no ResourceWarning behind."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        async with client_for(sim) as argil:
            await argil.voices.list()
        await argil.voices.list()  # reopens lazily
        await argil.aclose()

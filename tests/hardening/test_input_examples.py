"""The issue's measured failures, one by one: bad input ends in InvalidRequestError naming the
argument, and what is sent is complete (checked at the transport seam, no sockets)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import pytest
from support.fakes import json_response, scripted_client

from argil_async import Argil, AsyncArgil, AutoBrolls, InvalidRequestError, Moment, Subtitles
from argil_async._cli._demo import make_png

MOMENT = {"avatarId": "a", "transcript": "Hi"}
VIDEO = json_response(201, {"id": "v1", "status": "IDLE"})


async def _field_of(call: Any) -> str:
    with pytest.raises(InvalidRequestError) as info:
        await call
    return info.value.field


@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
        ("assets.list", {"type": 1}, "type"),
        ("assets.list", {"type": ["IMAGE", None]}, "type[1]"),
        ("assets.list", {"status": "\ud800"}, "status"),
        ("webhooks.create", {"callback_url": "https://x.test/h", "events": None}, "events"),
        (
            "videos.create",
            {"name": "v", "moments": [MOMENT], "aspect_ratio": object()},
            "aspect_ratio",
        ),
        ("videos.create", {"name": "v", "moments": [MOMENT], "aspect_ratio": 0}, "aspect_ratio"),
        ("videos.create", {"name": "v", "moments": [MOMENT], "model": False}, "model"),
        ("videos.create", {"name": "v\udc80", "moments": [MOMENT]}, "name"),
        (
            "videos.create",
            {"name": "v", "moments": [{"avatarId": "a", "transcript": None}]},
            "moments[0].transcript",
        ),
        (
            "videos.create",
            {"name": "v", "moments": [{"avatarId": "a", "transcript": "\ud800"}]},
            "moments[0].transcript",
        ),
        ("videos.create", {"name": "v", "moments": [{**MOMENT, "zoom": 1.5}]}, "moments[0].zoom"),
        (
            "videos.create",
            {"name": "v", "moments": [{**MOMENT, "futureKey": 1}]},
            "moments[0].futureKey",
        ),
        (
            "videos.create",
            {"name": "v", "moments": [MOMENT], "extras": {str(i): "x" for i in range(11)}},
            "extras",
        ),
        ("videos.get", {"id": "\ud800"}, "id"),
        ("videos.wait_until_done", {"id": "v", "timeout": "soon"}, "timeout"),
        ("videos.wait_until_done", {"id": "v", "poll_interval": float("nan")}, "poll_interval"),
        ("avatars.wait_until_ready", {"id": "a", "timeout": float("inf")}, "timeout"),
        (
            "assets.upload",
            {"name": "n", "type": "IMAGE", "url": "https://x.test/a", "timeout": "x"},
            "timeout",
        ),
        (
            "assets.upload",
            {"name": "n", "type": "IMAGE", "url": "https://x.test/a", "poll_interval": None},
            "poll_interval",
        ),
        (
            "voices.create",
            {"name": "v", "audio_url": "https://x.test/a.mp3", "speaker_boost": "yes"},
            "speaker_boost",
        ),
        (
            "voices.create",
            {"name": "v", "audio_url": "https://x.test/a.mp3", "model_id": {}},
            "model_id",
        ),
        (
            "voices.create",
            {"name": "v", "audio_url": "https://x.test/a.mp3", "voice_style": object()},
            "voice_style",
        ),
        ("subtitles.export", {"video_id": "v", "include_styling": "yes"}, "include_styling"),
        ("avatars.create", {"name": "n", "image": ""}, "image"),
        ("avatars.create", {"name": "n", "image": "."}, "image"),
        ("avatars.create", {"name": "n", "image": "a\x00b.png"}, "image"),
        ("avatars.create", {"name": "n", "image": "data:image/png;base64,!!!"}, "image"),
        ("avatars.create", {"name": "n", "image": make_png(1000, 1000)}, "image"),
        ("avatars.create", {"name": "n", "image": make_png(640, 360)}, "image"),
        ("videos.download", {"id_or_video": "v", "path": "a\x00b"}, "path"),
        ("videos.download", {"id_or_video": "v", "path": "x", "subtitled": 1}, "subtitled"),
        ("videos.wait_until_done", {"id": "v", "receiver": 5}, "receiver"),
        ("videos.generate", {"name": "v", "moments": [MOMENT], "receiver": "x"}, "receiver"),
    ],
)
async def test_bad_arguments_raise_typed_errors_naming_them(
    method: str, kwargs: dict[str, Any], field: str
):
    """Each example from the fault harness names its argument and sends nothing."""
    client, transport = scripted_client()
    resource, name = method.split(".")
    method_ = getattr(getattr(client, resource), name)

    async def call() -> object:
        result = method_(**kwargs)
        return await (result.to_list() if name == "list" else result)

    assert await _field_of(call()) == field
    assert transport.requests == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"api_key": 5}, "api_key"),
        ({"api_key": "k", "base_url": 5}, "base_url"),
        ({"api_key": "k", "base_url": "https://a\x00b.test"}, "base_url"),
        ({"api_key": "k", "timeout": "60"}, "timeout"),
        ({"api_key": "k", "timeout": float("nan")}, "timeout"),
        ({"api_key": "k", "timeout": -1}, "timeout"),
        ({"api_key": "k", "max_retries": 1.5}, "max_retries"),
        ({"api_key": "k", "max_retries": "2"}, "max_retries"),
        ({"api_key": "k", "asset_concurrency": 0}, "asset_concurrency"),
        ({"api_key": "k", "asset_concurrency": None}, "asset_concurrency"),
        ({"api_key": "k\udc80"}, "api_key"),
        ({"api_key": "k", "proxy": 5}, "proxy"),
        ({"api_key": "k", "proxy": "socks://user:pw@proxy.test"}, "proxy"),
        ({"api_key": "k", "trust_env": "no"}, "trust_env"),
        ({"api_key": "k", "trace_configs": 5}, "trace_configs"),
        ({"api_key": "k", "trace_configs": [object()]}, "trace_configs[0]"),
        ({"api_key": "k", "connector": 5}, "connector"),
    ],
)
@pytest.mark.parametrize("cls", [AsyncArgil, Argil])
def test_bad_constructor_arguments_name_the_argument(
    cls: type[Any], kwargs: dict[str, Any], field: str
):
    """Both clients refuse bad configuration with a typed error naming it, at construction."""
    with pytest.raises(InvalidRequestError) as info:
        cls(**kwargs)
    assert info.value.field == field
    assert "pw" not in str(info.value)  # a proxy URL's credentials are not shown


async def test_a_connector_factory_making_no_connector_is_a_typed_error():
    """connector=f where f() is not an aiohttp connector: InvalidRequestError on first use."""
    async with AsyncArgil(api_key="k", base_url="http://127.0.0.1:9/v1", connector=dict) as c:
        assert await _field_of(c.avatars.list()) == "connector"


async def test_a_directory_or_unreadable_file_is_refused_as_image(tmp_path: Path):
    """A folder, or a file the process may not read, is an InvalidRequestError on image."""
    client, _ = scripted_client()
    assert await _field_of(client.avatars.create(name="n", image=tmp_path)) == "image"
    locked = tmp_path / "locked.png"
    locked.write_bytes(make_png())
    locked.chmod(0)
    if os.access(locked, os.R_OK):  # root reads anything
        pytest.skip("running as root: every file is readable")
    assert await _field_of(client.avatars.create(name="n", image=locked)) == "image"


async def test_dict_pieces_are_completed_like_models():
    """subtitles={} gets enable, dict auto_brolls get enable; snake_case keys are renamed."""
    client, transport = scripted_client(VIDEO, VIDEO)
    await client.videos.create(
        name="v",
        moments=[{"avatar_id": "a", "transcript": "Hi", "zoom": {}}],
        subtitles={},
        auto_brolls={"source": "GENERATION"},
    )
    await client.videos.create(
        name="v",
        moments=[Moment(avatar_id="a", audio_url="https://x.test/a.mp3")],
        subtitles=Subtitles(),
        auto_brolls=AutoBrolls(source="AVATAR_ACTION"),
    )
    first, second = (msgspec.json.decode(r.body or b"") for r in transport.requests)
    assert first["moments"] == [{"avatarId": "a", "transcript": "Hi", "zoom": {"level": 1.0}}]
    assert first["subtitles"] == {"enable": True}
    assert first["autoBrolls"] == {"source": "GENERATION", "intensity": "MEDIUM", "enable": True}
    assert second["autoBrolls"] == {"source": "AVATAR_ACTION", "enable": True}


async def test_a_moment_needs_exactly_one_of_transcript_and_audio():
    """Neither, or both, is refused before sending."""
    client, transport = scripted_client()
    both = {**MOMENT, "audioUrl": "https://x.test/a.mp3"}
    for moment in ({"avatarId": "a"}, both):
        field = await _field_of(client.videos.create(name="v", moments=[moment]))
        assert field == "moments[0].transcript"
    assert transport.requests == []


async def test_null_pieces_count_as_not_given():
    """A None zoom or subtitles is left out, as with the models, never sent as null."""
    client, transport = scripted_client(VIDEO)
    await client.videos.create(name="v", moments=[{**MOMENT, "zoom": None}], subtitles=None)
    body = msgspec.json.decode(transport.requests[0].body or b"")
    assert body == {"name": "v", "moments": [MOMENT]}


async def test_unknown_enum_values_still_pass():
    """Enumerations stay open: a value the SDK does not know yet is sent as given."""
    client, transport = scripted_client(VIDEO)
    await client.videos.create(name="v", moments=[MOMENT], aspect_ratio="21:9", model="ARGIL_V9")
    body = msgspec.json.decode(transport.requests[0].body or b"")
    assert (body["aspectRatio"], body["model"]) == ("21:9", "ARGIL_V9")


async def test_voice_id_is_sent_as_given_in_the_body():
    """A voice id goes into the JSON body unquoted (it used to be URL-quoted)."""
    client, transport = scripted_client(json_response(201, {"id": "av", "status": "TRAINING"}))
    await client.avatars.create(name="n", image=make_png(), voice_id="v 1/2")
    body = msgspec.json.decode(transport.requests[0].body or b"")
    assert body["voiceId"] == "v 1/2"
    assert body["datasetImage"]["base64"].startswith("data:image/png;base64,")

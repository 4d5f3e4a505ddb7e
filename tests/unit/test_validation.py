"""Bad input: a typed InvalidRequestError naming the field and rule, and nothing sent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.fakes import scripted_client

from argil_async import AsyncArgil, BackgroundMusic, InvalidRequestError, Moment, Response, Zoom
from argil_async._cli._demo import make_png
from argil_async.testing import json_response

PNG = make_png()  # 1280x720: the smallest size Argil accepts


async def _rejected(call: Any, field: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        await call
    assert info.value.field == field, str(info.value)
    assert isinstance(info.value, ValueError)
    return info.value


@pytest.mark.parametrize(
    ("method", "kwargs", "field"),
    [
        ("assets.upload", {"name": "", "type": "IMAGE", "url": "https://x.test/a"}, "name"),
        ("assets.upload", {"name": "n" * 257, "type": "IMAGE", "url": "https://x"}, "name"),
        ("assets.upload", {"name": "n", "type": "", "url": "https://x.test/a"}, "type"),
        ("assets.upload", {"name": "n", "type": ["IMAGE"], "url": "https://x.test/a"}, "type"),
        ("assets.upload", {"name": "n", "type": "IMAGE", "url": "ftp://x.test/a"}, "url"),
        ("avatars.create", {"name": "n"}, "image_url/image"),
        (
            "avatars.create",
            {"name": "n", "image_url": "https://x", "image": PNG},
            "image_url/image",
        ),
        ("avatars.create", {"name": "n", "image_url": "http://example.com/a.png"}, "image_url"),
        ("avatars.create", {"name": "n", "image": b"GIF89a...."}, "image"),
        (
            "avatars.create",
            {"name": "n", "image": b"\x89PNG\r\n\x1a\n" + b"0" * 10_485_760},
            "image",
        ),
        ("avatars.create", {"name": "n", "image": PNG, "extras": {"k": 1}}, "extras['k']"),
        ("videos.create", {"name": "v", "moments": []}, "moments"),
        ("videos.create", {"name": "", "moments": [{"avatarId": "a"}]}, "name"),
        (
            "videos.create",
            {"name": "v", "moments": [{"avatarId": "a", "zoom": {"level": 3}}]},
            "moments[0].zoom.level",
        ),
        ("videos.create", {"name": "v", "moments": [{"avatarId": 5}]}, "moments[0].avatarId"),
        (
            "videos.create",
            {
                "name": "v",
                "moments": [{"avatarId": "a", "transcript": "Hi"}],
                "background_music": {"assetId": "m", "volume": 2},
            },
            "background_music.volume",
        ),
        ("videos.render", {"id": "v1", "callback_url": "http://example.com/hook"}, "callback_url"),
        ("videos.get", {"id": ""}, "id"),
        ("videos.render", {"id": ".."}, "id"),
        ("webhooks.delete", {"id": "."}, "id"),
        ("subtitles.export", {"video_id": ".."}, "video_id"),
        ("videos.list", {"page_size": 0}, "page_size"),
        ("assets.list", {"page_size": 101}, "page_size"),
        ("subtitles.export", {"video_id": "v", "format": 1}, "format"),
        ("subtitles.export", {"video_id": "v", "format": ""}, "format"),
        ("webhooks.create", {"callback_url": "https://x.test/h", "events": []}, "events"),
        ("webhooks.create", {"callback_url": "https://x.test/h", "events": [""]}, "events[0]"),
        ("webhooks.create", {"callback_url": "https://x.test/h", "events": [7]}, "events[0]"),
        (
            "webhooks.create",
            {"callback_url": "https://x.test/h", "events": "VIDEO_GENERATION_SUCCESS"},
            "events",
        ),
        ("webhooks.update", {"id": "w"}, "callback_url/events"),
        (
            "voices.create",
            {"name": "v", "audio_url": "https://x.test/a.mp3", "voice_speed": 2},
            "voice_speed",
        ),
        ("voices.create", {"name": "v", "audio_url": "http://x.test/a.mp3"}, "audio_url"),
        (
            "voices.create",
            {"name": "v", "audio_url": "https://x.test/a.mp3", "voice_stability": "high"},
            "voice_stability",
        ),
        ("videos.create", {"name": "v", "moments": [Moment(avatar_id=5)]}, "moments[0].avatarId"),
        (
            "videos.create",
            {"name": "v", "moments": [Moment(avatar_id="a", transcript=["hi"])]},
            "moments[0].transcript",
        ),
    ],
)
async def test_bad_input_is_rejected_before_sending(
    method: str, kwargs: dict[str, Any], field: str
):
    """Each documented limit raises InvalidRequestError naming the field; no request is sent."""
    client, transport = scripted_client()
    resource, name = method.split(".")
    method_ = getattr(getattr(client, resource), name)
    if name == "list":  # paginators check their arguments when they are made
        with pytest.raises(InvalidRequestError, match=field):
            method_(**kwargs)
    else:
        await _rejected(method_(**kwargs), field)
    assert transport.requests == []


def test_request_models_validate_on_construction():
    """Zoom levels and music volumes are checked when the model is built."""
    with pytest.raises(InvalidRequestError, match=r"level: must be a finite number from 1 to 2"):
        Zoom(level=2.5)
    with pytest.raises(InvalidRequestError, match="volume: must be a finite number from 0 to 1"):
        BackgroundMusic(asset_id="m", volume=-0.1)
    with pytest.raises(InvalidRequestError, match="level: must be a finite number"):
        Zoom(level="2")  # type: ignore[arg-type]
    assert Moment(avatar_id="a", transcript="hi", zoom=Zoom(level=1.5)).zoom == Zoom(level=1.5)


async def test_missing_image_file_names_the_path(tmp_path: Path):
    """A path that does not exist is an InvalidRequestError on image."""
    client, _ = scripted_client()
    error = await _rejected(client.avatars.create(name="n", image=tmp_path / "nope.png"), "image")
    assert "nope.png" in str(error)


async def test_upload_rejects_a_non_positive_timeout():
    """upload(timeout=0) names the timeout, sends nothing and holds no upload slot."""
    client, transport = scripted_client()
    upload = client.assets.upload(name="n", type="IMAGE", url="https://x.test/a", timeout=0)
    await _rejected(upload, "timeout")
    assert transport.requests == []
    assert client._asset_limiter.in_use == 0


@pytest.mark.parametrize("key", ["sk-123\n", " sk-123", "sk\r\nX-Injected: 1"])
def test_api_key_with_whitespace_is_refused_without_echoing_it(key: str):
    """A key with control characters or stray spaces (a line read from a file) names api_key."""
    with pytest.raises(InvalidRequestError) as info:
        AsyncArgil(api_key=key)
    assert info.value.field == "api_key"
    assert "sk-123" not in str(info.value)
    assert "sk\r" not in str(info.value)


async def test_waiters_reject_non_positive_timeouts():
    """A waiter needs a positive deadline."""
    client, _ = scripted_client()
    await _rejected(client.videos.wait_until_done("v", timeout=0), "timeout")


async def test_enumerations_stay_open_at_run_time():
    """Values the SDK does not know (a new asset type, format or event) are sent as given."""
    webhook = {"id": "w", "callbackUrl": "https://x.test/h", "events": ["NEW_EVENT"]}
    client, transport = scripted_client(
        json_response(201, {"id": "a", "type": "DOCUMENT", "status": "PROCESSING"}),
        Response(200, {"Content-Type": "text/plain"}, b"1\n00:00:00,000 --> 00:00:01,000\nHi\n"),
        json_response(201, webhook),
    )
    url = "https://x.test/a"
    asset = await client.assets.upload(name="n", type="DOCUMENT", url=url, wait=False)  # type: ignore[arg-type]
    text = await client.subtitles.export("v", format="srt")  # type: ignore[arg-type]
    hook = await client.webhooks.create(callback_url="https://x.test/h", events=["NEW_EVENT"])  # type: ignore[list-item]
    upload, export, create = transport.requests
    assert json.loads(upload.body or b"")["type"] == "DOCUMENT"
    assert asset.type == "DOCUMENT"
    assert ("format", "srt") in export.params
    assert text.startswith("1\n")
    assert json.loads(create.body or b"")["events"] == ["NEW_EVENT"]
    assert hook.events == ["NEW_EVENT"]

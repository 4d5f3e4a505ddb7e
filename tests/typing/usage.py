"""What users' code sees, checked by ``mypy --strict tests/typing`` in CI (never run).

Each ``assert_type`` pins a type users rely on; ``test_typos.py`` checks the other side:
that mistakes are reported.
"""

from __future__ import annotations

from typing_extensions import assert_type

from argil_async import (
    Argil,
    AsyncArgil,
    AsyncPaginator,
    Avatar,
    Paginator,
    RawResponse,
    RequestOptions,
    Timeout,
    Video,
    with_raw_response,
)
from argil_async.models import AssetStatus, AvatarStatus, VideoStatus


async def async_usage(client: AsyncArgil) -> None:
    """The async client: options, copies and raw responses keep their types."""
    patient = client.with_options(timeout=Timeout(total=30), max_retries=5)
    assert_type(patient, AsyncArgil)
    assert_type(await patient.videos.get("id"), Video)
    raw = await with_raw_response(client.videos.get, "id")
    assert_type(raw, RawResponse[Video])
    assert_type(raw.parse(), Video)
    assert_type(raw.status_code, int)
    assert_type(raw.request_id, str | None)
    assert_type(client.videos.list(), AsyncPaginator[Video])
    assert_type(await client.videos.get("id", timeout=5, max_retries=0), Video)
    assert_type(await client.avatars.list(visibility="public"), list[Avatar])
    assert_type(await client.videos.wait_until_done("id", timeout=60, max_retries=1), Video)
    video = await client.videos.get("id")
    assert_type(video.status, VideoStatus | None)
    if video.status == "CONTENT_MODERATED":  # a known value: no mypy complaint
        pass
    assert_type((await client.avatars.get("id")).status, AvatarStatus | None)
    assert_type((await client.assets.get("id")).status, AssetStatus | None)
    await client.voices.create(
        name="v",
        audio_url="https://x.test/a.mp3",
        model_id="eleven_v3",
        voice_speed=1.1,
        speaker_boost=True,
        extra_body={"removeBackgroundNoise": True},
        timeout=30,
    )
    raw_video = await client.videos.with_raw_response.get("id", timeout=5)
    assert_type(raw_video, RawResponse[Video])
    assert_type(raw_video.parse(), Video)
    assert_type(await client.avatars.with_raw_response.list(), RawResponse[list[Avatar]])
    options: RequestOptions = {"timeout": 5.0, "extra_headers": {"X-Trace": "1"}}
    assert_type(client.with_options(**options), AsyncArgil)


def sync_usage(client: Argil) -> None:
    """The sync client: the same, without await."""
    assert_type(client.with_options(max_retries=0), Argil)
    raw = with_raw_response(client.videos.get, "id")
    assert_type(raw, RawResponse[Video])
    assert_type(client.videos.list(), Paginator[Video])
    assert_type(client.videos.get("id", extra_query={"a": "b"}), Video)
    assert_type(client.videos.with_raw_response.get("id"), RawResponse[Video])
    assert_type(client.videos.with_raw_response.delete("id").parse(), None)

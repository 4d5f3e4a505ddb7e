"""/videos: create (201 IDLE), list (the ``videos`` envelope), get, delete, render (200)."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
from aiohttp import web

from ._checks import optional_callback_url
from ._http import (
    bad_request,
    int_param,
    json_response,
    not_found,
    page_count,
    page_slice,
    read_json_object,
)
from ._lifecycle import render_video
from ._records import SimVideo, utc_now
from ._runtime import RUNTIME, Runtime
from ._video_rules import build_video


async def create_video(request: web.Request) -> web.Response:
    """Validate strictly and store an IDLE video; nothing renders until POST .../render."""
    rt = request.app[RUNTIME]
    video = build_video(await read_json_object(request), rt.state, rt.config)
    rt.state.videos[video.id] = video
    rt.ledger.video_created(video)
    return json_response(rt.presenter(request).video(video), status=201)


async def list_videos(request: web.Request) -> web.Response:
    """Newest first, paginated by ``page``/``limit``, filtered by name, avatar, voice and extras."""
    rt = request.app[RUNTIME]
    page = int_param(request.query, "page", 1)
    limit = int_param(request.query, "limit", 10)
    keep = _video_filter(request)
    matching = [video for video in rt.state.newest_videos() if keep(video)]
    present = rt.presenter(request)
    return json_response(
        {
            "totalItems": len(matching),
            "totalPages": page_count(len(matching), limit),
            "currentPage": page,
            "itemsPerPage": limit,
            "videos": [present.video(video) for video in page_slice(matching, page, limit)],
        }
    )


def _video_filter(request: web.Request) -> Callable[[SimVideo], bool]:
    """A predicate for the list filters; ``extrasFilter`` must be a JSON object of strings."""
    name = request.query.get("nameSearchQuery", "").lower()
    avatar_id = request.query.get("avatarId")
    voice_id = request.query.get("voiceId")
    extras = _extras_filter(request.query.get("extrasFilter"))

    def keep(video: SimVideo) -> bool:
        return (
            name in video.name.lower()
            and (avatar_id is None or any(m.get("avatarId") == avatar_id for m in video.moments))
            and (voice_id is None or any(m.get("voiceId") == voice_id for m in video.moments))
            and all(video.extras.get(key) == value for key, value in extras.items())
        )

    return keep


def _extras_filter(raw: str | None) -> dict[str, str]:
    """Decode ``extrasFilter={"X_ID":"abc"}``; anything but an object of strings is a 400."""
    if raw is None:
        return {}
    rule = 'extrasFilter: must be a JSON object of strings, e.g. {"X_ID":"abc"}'
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        raise bad_request(rule) from None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise bad_request(rule)
    return value


async def get_video(request: web.Request) -> web.Response:
    """One video: the endpoint clients poll during a render."""
    rt = request.app[RUNTIME]
    return json_response(rt.presenter(request).video(_video(rt, request)))


async def delete_video(request: web.Request) -> web.Response:
    """200 ``{"message": "Video deleted"}``; a render in progress just stops."""
    rt = request.app[RUNTIME]
    video_id = _video(rt, request).id
    del rt.state.videos[video_id]
    rt.ledger.video_deleted(video_id)
    return json_response({"message": "Video deleted"})


async def render_video_handler(request: web.Request) -> web.Response:
    """200 GENERATING_AUDIO for an IDLE video; 400 for any other status (renders cost credits)."""
    rt = request.app[RUNTIME]
    video = _video(rt, request)
    body = await read_json_object(request, optional=True)
    callback_url = optional_callback_url(
        body, allow_loopback_http=rt.config.allow_loopback_http_callbacks
    )
    if video.status != "IDLE":
        rt.ledger.render(video.id, accepted=False)
        raise bad_request(f"status: video is {video.status}; only IDLE videos can be rendered")
    video.status = "GENERATING_AUDIO"
    rt.ledger.render(video.id, accepted=True)
    video.updated_at = utc_now()
    rt.spawn(render_video(rt, video, callback_url))
    return json_response(rt.presenter(request).video(video))


def _video(rt: Runtime, request: web.Request) -> SimVideo:
    """The video named in the path, or 404."""
    video = rt.state.videos.get(request.match_info["id"])
    if video is None:
        raise not_found("Video", request.match_info["id"])
    return video

"""File routes outside /v1 and without auth: renders, asset files, thumbnails, audio, previews.

Bytes are deterministic (derived from the file name) so a download can be compared byte for byte,
and ``drop_download_after`` cuts a download short to exercise a client's resume or error path.
"""

from __future__ import annotations

import asyncio
import hashlib
import html

from aiohttp import web

from ._http import ApiError
from ._runtime import RUNTIME, Runtime

_MP4_HEADER = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41"
_STATIC_KINDS = {
    "thumbnails": "image/jpeg",
    "avatars": "image/jpeg",
    "voices": "audio/mpeg",
    "audio": "audio/mpeg",
}
_ASSET_TYPES = {"IMAGE": "image/png", "VIDEO": "video/mp4", "AUDIO": "audio/mpeg"}


def file_bytes(name: str, size: int) -> bytes:
    """``size`` deterministic bytes for the file ``name``, starting like an MP4."""
    block = hashlib.sha256(name.encode()).digest() * 32
    body = _MP4_HEADER + block * (size // len(block) + 1)
    return body[:size]


async def serve_file(request: web.Request) -> web.StreamResponse:
    """GET /files/{kind}/{name}: 404 unless the video is DONE or the asset is READY."""
    rt = request.app[RUNTIME]
    kind, name = request.match_info["kind"], request.match_info["name"]
    content_type = _content_type(rt, kind, name)
    data = file_bytes(f"{kind}/{name}", rt.config.video_file_size)
    cut = rt.config.drop_download_after
    stall = rt.config.stall_download_after
    if (cut is None or cut >= len(data)) and (stall is None or stall >= len(data)):
        return web.Response(body=data, content_type=content_type)
    response = web.StreamResponse(headers={"Content-Type": content_type})
    response.content_length = len(data)
    await response.prepare(request)
    await response.write(data[: min(n for n in (cut, stall) if n is not None)])
    if cut is None or (stall is not None and stall < cut):
        await _until_hung_up(request)
    if request.transport is not None:
        request.transport.close()
    return response


async def _until_hung_up(request: web.Request, limit: float = 60.0) -> None:
    """Send nothing until the client closes the connection (at most ``limit`` seconds)."""
    for _ in range(int(limit / 0.05)):
        if request.transport is None or request.transport.is_closing():
            return
        await asyncio.sleep(0.05)


def _content_type(rt: Runtime, kind: str, name: str) -> str:
    """The media type of an existing file, or 404."""
    if kind in _STATIC_KINDS:
        return _STATIC_KINDS[kind]
    if kind == "videos":
        video = rt.state.videos.get(name.split(".", 1)[0])
        if video is not None and video.status == "DONE" and name.endswith(".mp4"):
            return "video/mp4"
    if kind == "assets":
        asset = rt.state.assets.get(name)
        if asset is not None and asset.status == "READY":
            return _ASSET_TYPES.get(asset.type, "application/octet-stream")
    raise ApiError(404, f"file not found: /files/{kind}/{name}")


async def serve_preview(request: web.Request) -> web.Response:
    """GET /files/previews/{id}: the embeddable preview page, available from creation."""
    rt = request.app[RUNTIME]
    video = rt.state.videos.get(request.match_info["id"])
    if video is None:
        raise ApiError(404, f"file not found: /files/previews/{request.match_info['id']}")
    title = html.escape(video.name)
    page = f"<!doctype html><title>{title}</title><p>Preview of {video.id} ({video.status})</p>"
    return web.Response(text=page, content_type="text/html")

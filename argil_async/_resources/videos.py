"""``client.videos``: create videos from moments, render, wait, download."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

import anyio
import msgspec

from .._decoding import decode
from .._download import download_to
from .._pagination import AsyncPaginator, Envelope, Page
from .._polling import wait_for_status
from ..errors import InvalidRequestError
from ..models import (
    VIDEO_FAILED_STATUSES,
    AutoBrolls,
    BackgroundMusic,
    Moment,
    Subtitles,
    Video,
)
from ._base import Resource, as_model, check_extras, check_page_size, check_url, path_id, query

__all__ = ["AsyncVideosResource"]


class _VideoPage(Envelope):
    videos: list[Video] = msgspec.field(default_factory=list)


class AsyncVideosResource(Resource):
    """Videos are made of moments; creating one is free, rendering costs credits."""

    __slots__ = ()

    async def create(
        self,
        *,
        name: str,
        moments: Sequence[Moment | Mapping[str, Any]],
        subtitles: Subtitles | Mapping[str, Any] | None = None,
        aspect_ratio: str | None = None,
        auto_brolls: AutoBrolls | Mapping[str, Any] | None = None,
        background_music: BackgroundMusic | Mapping[str, Any] | None = None,
        extras: Mapping[str, str] | None = None,
        model: str | None = None,
    ) -> Video:
        """Create a video (status IDLE); nothing is rendered until :meth:`render`.

        Example::

            video = await client.videos.create(
                name="Welcome",
                moments=[Moment(avatar_id=avatar.id, transcript="Hello and welcome!")],
                subtitles=Subtitles(style_id=style.id),
                extras={"job": "welcome-42"},
            )
        """
        if not isinstance(name, str) or not name:
            raise InvalidRequestError("name", "must be a non-empty string")
        body: dict[str, Any] = {"name": name, "moments": _moments(moments)}
        optional = {
            "subtitles": _optional("subtitles", subtitles, Subtitles),
            "aspectRatio": aspect_ratio,
            "autoBrolls": _optional("auto_brolls", auto_brolls, AutoBrolls),
            "backgroundMusic": _optional("background_music", background_music, BackgroundMusic),
            "extras": check_extras(extras),
            "model": model,
        }
        body.update((key, value) for key, value in optional.items() if value is not None)
        response = await self._client._request("POST", "/videos", body=body)
        return decode(Video, response.body)

    async def get(self, id: str) -> Video:
        """Fetch one video (poll it while it renders)."""
        video, _ = await self._client._get(f"/videos/{path_id('id', id)}", Video)
        return video

    def list(
        self,
        *,
        name_search_query: str | None = None,
        avatar_id: str | None = None,
        voice_id: str | None = None,
        extras_filter: Mapping[str, str] | None = None,
        page_size: int | None = None,
    ) -> AsyncPaginator[Video]:
        """Iterate over videos, newest first; ``extras_filter`` matches extras key/values.

        Example: ``client.videos.list(extras_filter={"job": "welcome-42"})``.
        """
        check_page_size(page_size)
        extras_json = None
        if extras_filter is not None:
            extras_json = msgspec.json.encode(check_extras(extras_filter)).decode()
        base = query(
            nameSearchQuery=name_search_query,
            avatarId=avatar_id,
            voiceId=voice_id,
            extrasFilter=extras_json,
            limit=page_size,
        )

        async def fetch(page: int) -> Page[Video]:
            response = await self._client._request(
                "GET", "/videos", params=[*base, ("page", str(page))]
            )
            body = decode(_VideoPage, response.body)
            return body.page_of(body.videos, page, page_size or 10)

        return AsyncPaginator(fetch)

    async def delete(self, id: str) -> None:
        """Delete a video."""
        await self._client._request("DELETE", f"/videos/{path_id('id', id)}")

    async def render(self, id: str, *, callback_url: str | None = None) -> Video:
        """Start rendering (costs credits; never resent after a failure that may have landed).

        ``callback_url`` (https) receives one VIDEO_GENERATION_SUCCESS or _FAILED POST when
        this render ends: see ``argil_async.events.WebhookReceiver``.
        """
        body = None
        if callback_url is not None:
            body = {"callbackUrl": check_url("callback_url", callback_url, https_only=True)}
        response = await self._client._request(
            "POST", f"/videos/{path_id('id', id)}/render", body=body
        )
        return decode(Video, response.body)

    async def wait_until_done(
        self, id: str, *, timeout: float = 1800.0, poll_interval: float = 5.0
    ) -> Video:
        """Poll until DONE with a video URL; GenerationFailedError on FAILED or moderation."""
        path_id("id", id)
        return await wait_for_status(
            lambda: self.get(id),
            done=("DONE",),
            failed=VIDEO_FAILED_STATUSES,
            timeout=timeout,
            poll_interval=poll_interval,
            what=f"video {id}",
            is_success=lambda video: bool(video.video_url),
        )

    async def download(
        self,
        id_or_video: str | Video,
        path: str | os.PathLike[str],
        *,
        subtitled: bool = False,
        progress: Callable[[int, int | None], None] | None = None,
    ) -> Path:
        """Download a DONE video's file to ``path`` (a file, or a directory for ``<id>.mp4``).

        The file is written under a temporary name and renamed at the end, so a failed
        download never leaves a partial file under the final name. ``progress`` is called
        with (bytes so far, total or None).
        """
        video = id_or_video if isinstance(id_or_video, Video) else await self.get(id_or_video)
        url = video.video_url_subtitled if subtitled else video.video_url
        if not url:
            what = "subtitled video URL" if subtitled else "video URL"
            raise InvalidRequestError(
                "id_or_video", f"video {video.id} has no {what} (status {video.status})"
            )
        target = Path(path)
        if await anyio.Path(target).is_dir():
            # The id comes from the server: quoted, it cannot name a path outside the folder.
            target = target / f"{quote(video.id, safe='')}.mp4"
        return await download_to(self._client._transport, url, target, progress=progress)


def _moments(moments: Sequence[Moment | Mapping[str, Any]]) -> list[Any]:
    if isinstance(moments, (str, bytes, Mapping)) or not isinstance(moments, Sequence):
        raise InvalidRequestError("moments", "must be a list of Moment objects or dicts")
    if not moments:
        raise InvalidRequestError("moments", "must hold at least one moment")
    return [as_model(f"moments[{i}]", moment, Moment) for i, moment in enumerate(moments)]


def _optional(field: str, value: object, cls: type[Any]) -> Any:
    return None if value is None else as_model(field, value, cls)

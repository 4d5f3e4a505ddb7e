"""``client.videos``: create videos from moments, render, wait, download."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import anyio
import msgspec

from .. import _validation as check
from .._decoding import decode
from .._download import download_to
from .._pagination import AsyncPaginator, Envelope, Page
from .._polling import wait_for_status
from ..errors import ArgilError
from ..models import (
    VIDEO_FAILED_STATUSES,
    AutoBrolls,
    BackgroundMusic,
    Moment,
    Subtitles,
    Video,
)
from ._base import Resource

__all__ = ["AsyncVideosResource"]

M = TypeVar("M", bound=msgspec.Struct)


class _VideoPage(Envelope):
    videos: list[Video] = msgspec.field(default_factory=list)


class _VideoBody(msgspec.Struct, rename="camel", omit_defaults=True, kw_only=True):
    """The POST /videos body: every piece already checked and completed."""

    name: str
    moments: list[Moment]
    subtitles: Subtitles | None = None
    aspect_ratio: str | None = None
    auto_brolls: AutoBrolls | None = None
    background_music: BackgroundMusic | None = None
    extras: dict[str, str] | None = None
    model: str | None = None


class _RenderBody(msgspec.Struct, rename="camel", omit_defaults=True):
    callback_url: str | None = None


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
        body = _VideoBody(
            name=check.text("name", name, min_length=1),
            moments=_moments(moments),
            subtitles=_optional("subtitles", subtitles, Subtitles),
            aspect_ratio=check.optional_text("aspect_ratio", aspect_ratio),
            auto_brolls=_optional("auto_brolls", auto_brolls, AutoBrolls),
            background_music=_optional("background_music", background_music, BackgroundMusic),
            extras=check.extras(extras),
            model=check.optional_text("model", model),
        )
        response = await self._client._request("POST", "/videos", body=body)
        return decode(Video, response.body)

    async def get(self, id: str) -> Video:
        """Fetch one video (poll it while it renders)."""
        video, _ = await self._client._get(f"/videos/{check.path_id('id', id)}", Video)
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
        check.page_size(page_size)
        extras_json = None
        if extras_filter is not None:
            filter_ = check.extras(extras_filter, field="extras_filter")
            extras_json = msgspec.json.encode(filter_).decode()
        base = check.query(
            nameSearchQuery=check.optional_text("name_search_query", name_search_query),
            avatarId=check.optional_text("avatar_id", avatar_id),
            voiceId=check.optional_text("voice_id", voice_id),
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
        await self._client._request("DELETE", f"/videos/{check.path_id('id', id)}")

    async def render(self, id: str, *, callback_url: str | None = None) -> Video:
        """Start rendering (costs credits; never resent after a failure that may have landed).

        ``callback_url`` (https) receives one VIDEO_GENERATION_SUCCESS or _FAILED POST when
        this render ends: see ``argil_async.events.WebhookReceiver``.
        """
        body = None
        if callback_url is not None:
            body = _RenderBody(check.url("callback_url", callback_url, https_only=True))
        response = await self._client._request(
            "POST", f"/videos/{check.path_id('id', id)}/render", body=body
        )
        return decode(Video, response.body)

    async def wait_until_done(
        self, id: str, *, timeout: float = 1800.0, poll_interval: float = 5.0
    ) -> Video:
        """Poll until DONE with a video URL; GenerationFailedError on FAILED or moderation."""
        check.path_id("id", id)
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
        target = Path(check.file_path("path", path))
        check.boolean("subtitled", subtitled)
        if progress is not None and not callable(progress):
            raise check.fail("progress", "must be a callable or None", progress)
        if not isinstance(id_or_video, Video):
            id_or_video = await self.get(check.path_id("id_or_video", id_or_video))
        video = id_or_video
        url = video.video_url_subtitled if subtitled else video.video_url
        if not url:
            what = "subtitled video URL" if subtitled else "video URL"
            raise check.fail("id_or_video", f"video {video.id} has no {what} ({video.status})")
        if await anyio.Path(target).is_dir():
            # The id comes from the server: quoted, it cannot name a path outside the folder.
            target = target / f"{quote(video.id, safe='')}.mp4"
        try:
            return await download_to(self._client._transport, url, target, progress=progress)
        except ArgilError:
            raise
        except OSError as exc:  # the folder is missing, read-only, full...
            raise check.fail("path", f"cannot be written ({exc})", str(target)) from None


def _moments(moments: object) -> list[Moment]:
    if isinstance(moments, (str, bytes, Mapping)) or not isinstance(moments, Sequence):
        raise check.fail("moments", "must be a list of Moment objects or dicts", moments)
    if not moments:
        raise check.fail("moments", "must hold at least one moment")
    return [check.request_model(f"moments[{i}]", item, Moment) for i, item in enumerate(moments)]


def _optional(field: str, value: object, cls: type[M]) -> M | None:
    return None if value is None else check.request_model(field, value, cls)

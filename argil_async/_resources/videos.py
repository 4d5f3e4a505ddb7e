"""``client.videos``: create videos from moments, render, wait, download."""

from __future__ import annotations

import functools
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import quote

import anyio
import msgspec
from typing_extensions import Unpack

from .. import _paid
from .. import _validation as check
from .._decoding import decode
from .._download import download_to
from .._options import RequestOptions, WaitOptions, check_options
from .._pagination import AsyncPaginator, Envelope, Page
from .._polling import VideoEventSource
from .._raw import RawMethod, RawResponseView
from .._seam import Timeout
from ..errors import APITimeoutError, ArgilError
from ..models import (
    AspectRatio,
    AutoBrolls,
    AvatarModel,
    BackgroundMusic,
    Moment,
    Subtitles,
    Video,
)
from . import _generate
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

    @property
    def with_raw_response(self) -> AsyncVideosResourceWithRawResponse:
        """The same methods, each returning a ``RawResponse`` (status, headers, request id).

        Example: ``raw = await client.videos.with_raw_response.create(...)``, then
        ``raw.status_code``, ``raw.request_id`` and ``raw.parse()``.
        """
        return AsyncVideosResourceWithRawResponse(self)

    async def create(
        self,
        *,
        name: str,
        moments: Sequence[Moment | Mapping[str, Any]],
        subtitles: Subtitles | Mapping[str, Any] | None = None,
        aspect_ratio: AspectRatio | None = None,
        auto_brolls: AutoBrolls | Mapping[str, Any] | None = None,
        background_music: BackgroundMusic | Mapping[str, Any] | None = None,
        extras: Mapping[str, str] | None = None,
        model: AvatarModel | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> Video:
        """Create a video (status IDLE); nothing is rendered until
        [`render()`][argil_async._resources.videos.AsyncVideosResource.render].

        ``idempotency_key`` makes the create safe to repeat: the key rides in ``extras`` (as
        ``argilIdempotencyKey``, one of the 10 extras a video may carry); a video that already
        carries it is returned instead of creating another, and after a failure that may have
        reached the server the key is looked up before sending again. Creates with one key
        racing each other can all land (the API does not deduplicate): each then lists the key
        and returns the same video (under way, else the oldest), deleting its extra IDLE one.

        Example:

        ```python
        video = await client.videos.create(
            name="Welcome",
            moments=[Moment(avatar_id=avatar.id, transcript="Hello and welcome!")],
            subtitles=Subtitles(style_id=style.id),
            extras={"job": "welcome-42"},
        )
        ```
        """
        extras = _paid.keyed_extras(extras, idempotency_key)
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
        if idempotency_key is not None:
            return await self._create_keyed(body, idempotency_key, options)
        response = await self._client._request("POST", "/videos", body=body, options=options)
        return decode(Video, response.body)

    async def _create_keyed(self, body: _VideoBody, key: str, options: RequestOptions) -> Video:
        async def send() -> Video:
            response = await self._client._request("POST", "/videos", body=body, options=options)
            return decode(Video, response.body)

        return await _keyed(self, key, send, _paid_retries(self, options))

    async def get(self, id: str, **options: Unpack[RequestOptions]) -> Video:
        """Fetch one video (poll it while it renders)."""
        path = f"/videos/{check.path_id('id', id)}"
        video, _ = await self._client._get(path, Video, options=options)
        return video

    def list(
        self,
        *,
        name_search_query: str | None = None,
        avatar_id: str | None = None,
        voice_id: str | None = None,
        extras_filter: Mapping[str, str] | None = None,
        page_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Video]:
        """Iterate over videos, newest first; ``extras_filter`` matches extras key/values.

        Example: ``client.videos.list(extras_filter={"job": "welcome-42"})``.
        """
        check.page_size(page_size)
        if options:
            check_options(options)
        extras_json = None
        if extras_filter is not None:
            filter_ = check.extras(extras_filter, field="extras_filter")
            extras_json = msgspec.json.encode(filter_).decode()
        base = check.query(
            nameSearchQuery=check.query_value("name_search_query", name_search_query),
            avatarId=check.query_value("avatar_id", avatar_id),
            voiceId=check.query_value("voice_id", voice_id),
            extrasFilter=extras_json,
            limit=page_size,
        )

        async def fetch(page: int) -> Page[Video]:
            params = [*base, ("page", str(page))]
            response = await self._client._request("GET", "/videos", params=params, options=options)
            body = decode(_VideoPage, response.body)
            return body.page_of(body.videos, page, page_size or 10)

        return AsyncPaginator(fetch)

    async def delete(self, id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete a video."""
        path = f"/videos/{check.path_id('id', id)}"
        await self._client._request("DELETE", path, options=options)

    async def render(
        self, id: str, *, callback_url: str | None = None, **options: Unpack[RequestOptions]
    ) -> Video:
        """Start rendering (costs credits; never sent twice).

        After a failure that may have reached the server (a dropped connection, a timeout, a
        5xx), the video's status is read before sending again: a render that landed has moved
        the video out of IDLE, and that video is returned. ``callback_url`` (https) receives
        one VIDEO_GENERATION_SUCCESS or _FAILED POST when this render ends: see
        ``argil_async.events.WebhookReceiver``.
        """
        body = None
        if callback_url is not None:
            body = _RenderBody(check.url("callback_url", callback_url, https_only=True))
        path = f"/videos/{check.path_id('id', id)}/render"

        async def send() -> Video:
            response = await self._client._request("POST", path, body=body, options=options)
            return decode(Video, response.body)

        retries = _paid_retries(self, options)
        wait = self._client._config.retry_policy.wait_for
        return await _paid.render_once(self, send, id, retries=retries, wait=wait)

    async def wait_until_done(
        self,
        id: str,
        *,
        timeout: float = 1800.0,
        poll_interval: float = 5.0,
        receiver: VideoEventSource | None = None,
        **options: Unpack[WaitOptions],
    ) -> Video:
        """Poll until DONE with a video URL; GenerationFailedError on FAILED or moderation.

        ``timeout`` bounds the whole wait; the options go with every poll.

        With ``receiver``, the video's webhook event also ends the wait (then one GET confirms
        it), while polling goes on with backoff: whichever answers first wins, so a delivery
        taken by another worker of your app, or lost, only delays the answer:

        ```python
        video = await client.videos.wait_until_done(video.id, receiver=receiver)
        ```
        """
        check.path_id("id", id)
        _generate.check_receiver(receiver)
        return await _generate.wait_done(
            self,
            id,
            timeout=timeout,
            poll_interval=poll_interval,
            receiver=receiver,
            options=check_options(options),
        )

    async def generate(
        self,
        *,
        name: str,
        moments: Sequence[Moment | Mapping[str, Any]],
        subtitles: Subtitles | Mapping[str, Any] | None = None,
        aspect_ratio: AspectRatio | None = None,
        auto_brolls: AutoBrolls | Mapping[str, Any] | None = None,
        background_music: BackgroundMusic | Mapping[str, Any] | None = None,
        extras: Mapping[str, str] | None = None,
        model: AvatarModel | None = None,
        idempotency_key: str | None = None,
        callback_url: str | None = None,
        receiver: VideoEventSource | None = None,
        timeout: float = 1800.0,
        poll_interval: float = 5.0,
        on_created: Callable[[Video], object] | None = None,
        on_status: Callable[[Video], object] | None = None,
        **options: Unpack[WaitOptions],
    ) -> Video:
        """Create, render and wait in one call; return the DONE video.

        The create carries ``idempotency_key`` (a random one when None), so calling again with
        the same key after a crash or an error resumes the same video instead of paying for
        another: a video found already rendering or done is not rendered again. ``on_created``
        (sync or async) runs once the video exists, before the wait: store its id there.
        ``on_status`` runs with the video at each status change seen. ``callback_url`` is
        given to the render; ``receiver`` makes the wait listen to it as well as poll (see
        [`wait_until_done()`][argil_async._resources.videos.AsyncVideosResource.wait_until_done]),
        and ``timeout`` bounds that wait; the options go with every request. Raises
        GenerationFailedError, WaitTimeoutError, or the API error that stopped it:

        ```python
        video = await client.videos.generate(
            name="Welcome Ann",
            moments=[Moment(avatar_id=avatar.id, transcript="Hello Ann!")],
            idempotency_key=f"welcome-{user.id}",
            on_created=lambda video: db.save(user.id, video.id),
        )
        ```
        """
        check.seconds("timeout", timeout)
        check.seconds("poll_interval", poll_interval)
        _generate.check_callback("on_created", on_created)
        _generate.check_callback("on_status", on_status)
        _generate.check_receiver(receiver)
        if callback_url is not None:
            check.url("callback_url", callback_url, https_only=True)
        video = await self.create(
            name=name,
            moments=moments,
            subtitles=subtitles,
            aspect_ratio=aspect_ratio,
            auto_brolls=auto_brolls,
            background_music=background_music,
            extras=extras,
            model=model,
            idempotency_key=_generate.key_or_new(idempotency_key),
            **options,
        )
        return await _generate.finish(
            self,
            video,
            callback_url=callback_url,
            receiver=receiver,
            timeout=timeout,
            poll_interval=poll_interval,
            on_created=on_created,
            on_status=on_status,
            options=options,
        )

    async def download(
        self,
        id_or_video: str | Video,
        path: str | os.PathLike[str],
        *,
        subtitled: bool = False,
        progress: Callable[[int, int | None], None] | None = None,
        **options: Unpack[RequestOptions],
    ) -> Path:
        """Download a DONE video's file to ``path`` (a file, or a directory for ``<id>.mp4``).

        The file is written under a temporary name and renamed at the end, so a failed
        download never leaves a partial file under the final name. ``progress`` is called
        with (bytes so far, total or None). The options apply to fetching the video by id;
        ``timeout`` also covers the file: seconds without data (``timeout=30``), and
        ``Timeout(total=...)`` is a deadline for the whole download, after which it stops
        with APITimeoutError and no file. Example:

        ```python
        await client.videos.download(video, "out/", timeout=Timeout(total=600))
        ```
        """
        target = Path(check.file_path("path", path))
        check.boolean("subtitled", subtitled)
        if progress is not None and not callable(progress):
            raise check.fail("progress", "must be a callable or None", progress)
        limit = options.get("timeout", self._client._options.given.get("timeout"))
        limit = None if limit is None else check.timeout("timeout", limit)
        if limit is None or limit.total is None:
            return await self._download(id_or_video, target, subtitled, progress, limit, options)
        with anyio.move_on_after(limit.total):
            return await self._download(id_or_video, target, subtitled, progress, limit, options)
        raise APITimeoutError(f"download did not finish within {limit.total:g} s")

    async def _download(
        self,
        id_or_video: str | Video,
        target: Path,
        subtitled: bool,
        progress: Callable[[int, int | None], None] | None,
        timeout: Timeout | None,
        options: RequestOptions,
    ) -> Path:
        if not isinstance(id_or_video, Video):
            check.path_id("id_or_video", id_or_video)  # the error names this parameter
            id_or_video = await self.get(id_or_video, **options)  # get() quotes the id, once
        video = id_or_video
        url = video.video_url_subtitled if subtitled else video.video_url
        if not url:
            what = "subtitled video URL" if subtitled else "video URL"
            raise check.fail("id_or_video", f"video {video.id} has no {what} ({video.status})")
        if await anyio.Path(target).is_dir():
            # The id comes from the server: quoted, it cannot name a path outside the folder.
            target = target / f"{quote(video.id, safe='')}.mp4"
        try:
            return await download_to(
                self._client._transport,
                url,
                target,
                progress=progress,
                timeout=timeout,
            )
        except ArgilError:
            raise
        except OSError as exc:  # the folder is missing, read-only, full...
            raise check.fail("path", f"cannot be written ({exc})", str(target)) from None


async def _keyed(
    videos: AsyncVideosResource, key: str, send: Callable[[], Awaitable[Video]], retries: int
) -> Video:
    """Return the video carrying ``key``, else create it, looking it up after any doubt."""
    lookup = functools.partial(_paid.find_existing, videos, {_paid.IDEMPOTENCY_EXTRA: key})
    existing = await lookup()
    if existing is not None:
        return existing
    what = f"create of video with key {key!r}"
    wait = videos._client._config.retry_policy.wait_for
    created = await _paid.settle(send, lookup, retries=retries, wait=wait, what=what)
    return await _paid.converge(videos, {_paid.IDEMPOTENCY_EXTRA: key}, created)


def _paid_retries(videos: AsyncVideosResource, options: RequestOptions) -> int:
    """Resends allowed after doubt: the call's ``max_retries``, else the client's."""
    return options.get("max_retries", videos._client.max_retries)


def _moments(moments: object) -> list[Moment]:
    if isinstance(moments, (str, bytes, Mapping)) or not isinstance(moments, Sequence):
        raise check.fail("moments", "must be a list of Moment objects or dicts", moments)
    if not moments:
        raise check.fail("moments", "must hold at least one moment")
    return [check.request_model(f"moments[{i}]", item, Moment) for i, item in enumerate(moments)]


def _optional(field: str, value: object, cls: type[M]) -> M | None:
    return None if value is None else check.request_model(field, value, cls)


class AsyncVideosResourceWithRawResponse(RawResponseView):
    """``client.videos.with_raw_response``: each method returns a ``RawResponse``."""

    __slots__ = ()

    create: Final = RawMethod(AsyncVideosResource.create)
    get: Final = RawMethod(AsyncVideosResource.get)
    delete: Final = RawMethod(AsyncVideosResource.delete)
    render: Final = RawMethod(AsyncVideosResource.render)
    wait_until_done: Final = RawMethod(AsyncVideosResource.wait_until_done)
    generate: Final = RawMethod(AsyncVideosResource.generate)
    download: Final = RawMethod(AsyncVideosResource.download)

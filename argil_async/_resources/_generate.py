"""``videos.generate``'s steps after the create, and waits that listen to a webhook receiver."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING

from .. import _validation as check
from .._options import WaitOptions
from .._paid import rendered
from .._polling import Goal, Hooks, VideoEventSource, wait_for_status
from ..errors import BadRequestError
from ..models import VIDEO_FAILED_STATUSES, Video

if TYPE_CHECKING:
    from .videos import AsyncVideosResource

__all__ = ["check_callback", "check_receiver", "finish", "key_or_new", "wait_done"]

Callback = Callable[[Video], object]


def check_callback(field: str, callback: object) -> None:
    """Refuse a callback that cannot be called, before anything is created."""
    check.function(field, callback, optional=True)


def check_receiver(receiver: object) -> None:
    """Refuse a ``receiver`` that cannot wait for a video's event, before anything is sent.

    Checked up front because ``generate`` would otherwise pay for the render first.
    """
    if receiver is not None and not callable(getattr(receiver, "wait_for_video", None)):
        raise check.fail("receiver", "must be a WebhookReceiver (with wait_for_video)", receiver)


async def finish(
    videos: AsyncVideosResource,
    video: Video,
    *,
    callback_url: str | None,
    receiver: VideoEventSource | None,
    timeout: float,
    poll_interval: float,
    on_created: Callback | None,
    on_status: Callback | None,
    options: WaitOptions,
) -> Video:
    """Report the created video, render it unless a render already landed, wait for the end."""
    await _call(on_created, video)
    report = _StatusReport(on_status)
    await report(video)
    if video.status == "IDLE":
        video = await _render(videos, video, callback_url, options)
        await report(video)
    return await wait_done(
        videos,
        video.id,
        timeout=timeout,
        poll_interval=poll_interval,
        receiver=receiver,
        seen=report,
        options=options,
    )


async def _render(
    videos: AsyncVideosResource, video: Video, callback_url: str | None, options: WaitOptions
) -> Video:
    """Render; a 400 because another call with the same key rendered it first is no error."""
    try:
        return await videos.render(video.id, callback_url=callback_url, **options)
    except BadRequestError:
        landed = await rendered(videos, video.id)
        if landed is None:
            raise  # refused for another reason (credits, ...)
        return landed


async def wait_done(
    videos: AsyncVideosResource,
    video_id: str,
    *,
    timeout: float,
    poll_interval: float,
    receiver: VideoEventSource | None,
    seen: _StatusReport | None = None,
    options: WaitOptions | None = None,
) -> Video:
    """Poll with backoff until the video ends; a webhook event for it cuts the current sleep.

    So the answer comes from whichever is first: a delivery to ``receiver`` (then one GET
    confirms it), or a poll (a delivery lost, or taken by another worker, only delays it).
    """
    listener = None
    if receiver is not None:
        listener = asyncio.ensure_future(receiver.wait_for_video(video_id))
    try:
        return await wait_for_status(
            lambda: videos.get(video_id, **(options or {})),
            Goal(f"video {video_id}", ("DONE",), VIDEO_FAILED_STATUSES, _has_url),
            timeout=timeout,
            poll_interval=poll_interval,
            hooks=Hooks(seen=seen, wake=listener),
        )
    finally:
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener


class _StatusReport:
    """Calls ``on_status(video)`` each time the status differs from the last one reported."""

    def __init__(self, on_status: Callback | None) -> None:
        self._on_status = on_status
        self._last: str | None = None

    async def __call__(self, video: Video) -> None:
        if video.status != self._last:
            self._last = video.status
            await _call(self._on_status, video)


async def _call(callback: Callback | None, video: Video) -> None:
    """Call a user callback, sync or async; its exceptions propagate to the caller."""
    if callback is not None:
        result = callback(video)
        if inspect.isawaitable(result):
            await result


def key_or_new(key: str | None) -> str:
    """The caller's idempotency key, or a fresh one that still protects this call's retries."""
    return key if key is not None else f"generate-{uuid.uuid4().hex}"


def _has_url(video: Video) -> bool:
    """A DONE video without a URL cannot be downloaded: it counts as failed."""
    return bool(video.video_url)

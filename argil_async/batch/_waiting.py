"""Waiting for renders: by render callback when one can reach us, by polling otherwise.

A render sent by this process with a callback URL is awaited on the run's
[`WebhookReceiver`][argil_async.events.WebhookReceiver]. The event is then confirmed with one GET:
Argil does not sign deliveries, and the GET also brings the subtitled URL and the final status
(3 requests per video in all). The wait for the event is cut into ``check_interval`` slices,
each ending in that GET, so a lost delivery costs at most one slice; a confirmed event that
the API contradicts switches the job to polling. Renders sent by an earlier, killed run
notified a receiver that no longer exists, so they are polled, as is everything when the run
has no receiver.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from .._client import AsyncArgil
from ..errors import GenerationFailedError, WaitTimeoutError
from ..models import VIDEO_FAILED_STATUSES, Video

if TYPE_CHECKING:
    from ..events._receiver import (
        WebhookReceiver,  # imports aiohttp.web: only when a run serves one
    )

__all__ = ["Waiter", "WaitSettings"]


@dataclass(frozen=True)
class WaitSettings:
    """Deadlines and intervals of the waits (seconds)."""

    timeout: float = 3600.0
    poll_interval: float = 5.0
    check_interval: float = 300.0


class Waiter:
    """Waits for one video's render to end; `expect()` marks renders sent with a callback."""

    def __init__(
        self,
        client: AsyncArgil,
        settings: WaitSettings,
        receiver: WebhookReceiver | None = None,
        callback_url: str | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._receiver = receiver
        self.callback_url = callback_url
        self._expected: set[str] = set()

    def expect(self, video_id: str) -> None:
        """``video_id`` is about to be rendered with `callback_url`."""
        self._expected.add(video_id)

    async def wait(self, video_id: str) -> Video:
        """The DONE video; GenerationFailedError if it failed, WaitTimeoutError if overdue."""
        if self._receiver is not None and video_id in self._expected:
            try:
                video = await self._by_callback(self._receiver, video_id)
            except (GenerationFailedError, WaitTimeoutError):
                self._expected.discard(video_id)
                raise
            self._expected.discard(video_id)  # the job is over: a large batch keeps no trace
            return video
        return await self._poll(video_id, self._settings.timeout)

    async def _poll(self, video_id: str, timeout: float) -> Video:
        interval = self._settings.poll_interval
        return await self._client.videos.wait_until_done(
            video_id, timeout=max(timeout, interval), poll_interval=interval
        )

    async def _by_callback(self, receiver: WebhookReceiver, video_id: str) -> Video:
        deadline = anyio.current_time() + self._settings.timeout
        while True:
            remaining = deadline - anyio.current_time()
            slice_ = max(0.0, min(self._settings.check_interval, remaining))
            heard = await _heard(receiver, video_id, slice_)
            video = await self._client.videos.get(video_id)
            if _ended(video):
                return _outcome(video)
            if heard:  # the event and the API disagree: trust the API, poll it
                return await self._poll(video_id, deadline - anyio.current_time())
            if anyio.current_time() >= deadline:
                raise WaitTimeoutError(f"video {video_id} still {video.status}", last=video)


async def _heard(receiver: WebhookReceiver, video_id: str, timeout: float) -> bool:
    """Whether the video's event arrived within ``timeout`` seconds."""
    with contextlib.suppress(WaitTimeoutError):
        await receiver.wait_for_video(video_id, timeout=timeout)
        return True
    return False


def _ended(video: Video) -> bool:
    return video.status == "DONE" or video.status in VIDEO_FAILED_STATUSES


def _outcome(video: Video) -> Video:
    if video.status == "DONE" and video.video_url:
        return video
    message = f"video {video.id} ended with status {video.status}"
    raise GenerationFailedError(message, resource=video)

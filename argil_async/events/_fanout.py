"""Handing accepted events out: to streams that iterate over them, and to waiters by id.

A waiter may sit on another event loop than the one that accepts deliveries (the sync client
waits on its own thread), so waiters are completed on their own loop's thread.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from ._payloads import (
    AvatarTrainingFailed,
    AvatarTrainingSucceeded,
    Event,
    VideoGenerationFailed,
    VideoGenerationSucceeded,
)

__all__ = ["EventStream", "Key", "key_of", "resolve"]

logger = logging.getLogger("argil_async.events")

Key = tuple[str, str]  # ("video" | "avatar", id)


class EventStream:
    """Events accepted after its creation, in order; when full, the oldest are dropped."""

    def __init__(self, registry: weakref.WeakSet[EventStream], max_queued: int) -> None:
        self._registry = registry
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(max_queued)
        self._closed = False
        registry.add(self)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """Stop receiving events; iteration ends after those already queued."""
        self._registry.discard(self)
        self._close()

    def _put(self, item: Event | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            logger.warning("webhook event stream is full; dropped its oldest event")
        self._queue.put_nowait(item)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._put(None)


def resolve(future: asyncio.Future[Event], event: Event) -> None:
    """Complete a waiter, from its own loop's thread (a sync client waits on another loop)."""
    loop = future.get_loop()
    try:
        same_loop = asyncio.get_running_loop() is loop
    except RuntimeError:
        same_loop = False
    if same_loop:
        _set_result(future, event)
    elif not loop.is_closed():
        loop.call_soon_threadsafe(_set_result, future, event)


def _set_result(future: asyncio.Future[Event], event: Event) -> None:
    if not future.done():
        future.set_result(event)


def key_of(event: Event) -> Key | None:
    if isinstance(event, (VideoGenerationSucceeded, VideoGenerationFailed)):
        return ("video", event.video_id)
    if isinstance(event, (AvatarTrainingSucceeded, AvatarTrainingFailed)):
        return ("avatar", event.avatar_id)
    return None

"""One poll for every asset being waited on: the uploads in flight share their status checks.

Each waiter keeps its own schedule (``_polling.wait_for_status``), but a poll is answered from
a shared listing of the workspace's PROCESSING assets (at most 5 of them: the API's limit, so
one page holds them all). Waiters polling at about the same moment (the uploads of one wave)
share one listing; an asset found in it is still processing, and only an asset that has left
it costs a request of its own (several that left together are read from one listing of the
READY assets, newest first). So an upload costs its POST, a share of the listings and about
one read, instead of a GET per waiter per poll.

Nothing is trusted that was not seen: an asset missing from a listing (a truncated page, an
asset created after it, a FAILED or deleted one) is read with ``assets.get``.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import anyio

from ..models import Asset

if TYPE_CHECKING:
    from .assets import AsyncAssetsResource

__all__ = ["AssetWatch", "watch_for"]

_PAGE = 100  # the API's largest page: the PROCESSING listing never holds more than 5


class AssetWatch:
    """The shared polls of the assets waited on through one limiter (one set of 5 slots)."""

    def __init__(self) -> None:
        self._waiting: dict[str, int] = {}  # asset id -> how many waiters wait for it
        self._latest: _Snapshot | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def watching(self, asset_id: str) -> _Watching:
        """``async with watch.watching(id):`` counts a waiter while it waits."""
        return _Watching(self, asset_id)

    async def poll(self, assets: AsyncAssetsResource, asset_id: str, fresh_within: float) -> Asset:
        """The asset as a listing no older than ``fresh_within`` seconds saw it, or as read."""
        snapshot = self._current(assets, fresh_within)
        processing = await snapshot.processing()
        seen = processing.get(asset_id)
        if seen is not None:
            return seen
        return await snapshot.finished(asset_id)

    def _current(self, assets: AsyncAssetsResource, fresh_within: float) -> _Snapshot:
        """The latest snapshot if it is in flight or fresh enough, else a new one."""
        loop = asyncio.get_running_loop()
        latest = self._latest
        if (
            latest is None
            or self._loop is not loop
            or latest.failed()
            or (latest.taken is not None and anyio.current_time() - latest.taken > fresh_within)
        ):
            latest = self._latest = _Snapshot(assets, frozenset(self._waiting))
            self._loop = loop
        return latest


class _Watching:
    __slots__ = ("_id", "_watch")

    def __init__(self, watch: AssetWatch, asset_id: str) -> None:
        self._watch, self._id = watch, asset_id

    async def __aenter__(self) -> None:
        waiting = self._watch._waiting
        waiting[self._id] = waiting.get(self._id, 0) + 1

    async def __aexit__(self, *exc_info: object) -> None:
        waiting = self._watch._waiting
        left = waiting.pop(self._id, 1) - 1
        if left > 0:
            waiting[self._id] = left


class _Snapshot:
    """One shared listing of the PROCESSING assets, and the shared read of those that left."""

    def __init__(self, assets: AsyncAssetsResource, waited: frozenset[str]) -> None:
        self._assets = assets
        self._waited = waited  # the ids waited on when this listing was started
        self.taken: float | None = None  # when the listing answered (None while in flight)
        self._processing: asyncio.Future[dict[str, Asset] | None] = _shared(self._list())
        self._ready: asyncio.Future[dict[str, Asset]] | None = None

    def failed(self) -> bool:
        """Whether the listing ended without an answer (the next poll starts another)."""
        listing = self._processing
        return listing.done() and (listing.cancelled() or listing.exception() is not None)

    async def processing(self) -> dict[str, Asset]:
        """The assets this listing saw PROCESSING (empty if the listing was incomplete)."""
        return await asyncio.shield(self._processing) or {}

    async def finished(self, asset_id: str) -> Asset:
        """An asset the listing did not show as processing: read it (several at once, if
        several waited-on assets left together)."""
        listed = await asyncio.shield(self._processing)
        if listed is not None:
            left = [i for i in self._waited if i not in listed]
            if len(left) > 1 and asset_id in left:
                if self._ready is None:
                    self._ready = _shared(self._list_ready())
                asset = (await asyncio.shield(self._ready)).get(asset_id)
                if asset is not None:
                    return asset
        return await self._assets.get(asset_id)

    async def _list(self) -> dict[str, Asset] | None:
        page = await self._assets.list(status="PROCESSING", page_size=_PAGE).fetch_page(1)
        self.taken = anyio.current_time()
        if len(page.items) >= _PAGE or (page.total_pages or 1) > 1:
            return None  # more than a page: absence would prove nothing
        return {asset.id: asset for asset in page.items}

    async def _list_ready(self) -> dict[str, Asset]:
        page = await self._assets.list(status="READY", page_size=_PAGE).fetch_page(1)
        return {asset.id: asset for asset in page.items}


def _shared(work: Awaitable[Any]) -> asyncio.Future[Any]:
    """Run ``work`` as a task that no single waiter's cancellation cancels."""
    task = asyncio.ensure_future(work)
    task.add_done_callback(_retrieve)
    return task


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # seen by the waiters; never "exception was never retrieved"


_WATCHES: weakref.WeakKeyDictionary[object, AssetWatch] = weakref.WeakKeyDictionary()


def watch_for(limiter: object) -> AssetWatch:
    """The watch shared by every client using ``limiter`` (a fresh one if it cannot be kept)."""
    try:
        watch = _WATCHES.get(limiter)
        if watch is None:
            watch = _WATCHES[limiter] = AssetWatch()
    except TypeError:  # a limiter that takes no weak reference (or is unhashable)
        return AssetWatch()
    return watch

"""The workspace's limit of 5 assets processing at once, enforced on the client side.

An upload takes a slot before its POST and keeps it until the client sees the asset leave
PROCESSING (through ``get``, ``list`` or ``wait_until_ready``) or go (``delete``, a 404), so
50 concurrent uploads run 5 at a time without provoking a single 429, at the limit's full
throughput. A slot whose asset is never looked at again is reclaimed after ``lease_timeout``
seconds, so a forgotten asset cannot block the client for ever.

[`AssetLimiter`][argil_async.limits.AssetLimiter] is the interface the client talks to;
[`InProcessAssetLimiter`][argil_async.limits.InProcessAssetLimiter] (one process) is the default and
``argil_async.limits.RedisAssetLimiter`` shares the slots of a whole fleet. A 429 with
``Retry-After`` on an upload pauses the limiter's uploads
([`pause()`][argil_async.limits.AssetLimiter.pause]) until that time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

import anyio

from .. import _validation as check
from ..models import Asset

__all__ = ["AssetLimiter", "InProcessAssetLimiter", "Lease"]


class Lease:
    """One held slot; bound to an asset id once the server has assigned one."""

    __slots__ = ("asset_id", "expires_at")

    def __init__(self, expires_at: float) -> None:
        self.asset_id: str | None = None
        self.expires_at: float = expires_at


@runtime_checkable
class AssetLimiter(Protocol):
    """What ``AsyncArgil(asset_limiter=...)`` needs: slots held from an upload's POST until
    its asset leaves PROCESSING, and a shared pause after a 429.

    ``acquire`` waits (cancellably) for a slot; ``bind`` ties it to the uploaded asset;
    ``observe`` and ``forget`` free the slots of assets seen finished or gone, whoever
    uploaded them; ``pause`` holds every upload back for a 429's ``Retry-After`` and
    ``cooled`` waits until that pause is over.
    """

    @property
    def expected_processing(self) -> float | None:
        """How long processing usually takes (None until seen), to time upload polls."""

    async def acquire(self) -> Lease:
        """Wait for a free slot and take it."""

    async def bind(self, lease: Lease, asset: Asset) -> None:
        """Attach ``lease`` to the uploaded asset, or free it if the asset is not processing."""

    async def release(self, lease: Lease) -> None:
        """Give a slot back."""

    async def observe(self, assets: Iterable[Asset]) -> None:
        """Free the slots of assets seen in any status but PROCESSING."""

    async def forget(self, asset_id: str) -> None:
        """Free the slot of an asset that is gone (deleted, or unknown to the server)."""

    def learn(self, duration: float) -> None:
        """Fold one observed processing duration into ``expected_processing``."""

    async def pause(self, seconds: float) -> None:
        """Hold uploads back for ``seconds`` (a 429's Retry-After)."""

    async def cooled(self) -> None:
        """Return once no pause is in force."""

    async def aclose(self) -> None:
        """Release background resources; the limiter may be used again afterwards."""


class InProcessAssetLimiter:
    """Counts this process's processing assets; ``acquire`` waits while ``slots`` are taken.

    The default limiter: ``AsyncArgil(asset_concurrency=5)`` makes one. Example:

    ```python
    limiter = InProcessAssetLimiter(3)
    client = AsyncArgil(asset_limiter=limiter)
    ```
    """

    def __init__(self, slots: int = 5, *, lease_timeout: float = 900.0) -> None:
        check.integer("asset_concurrency", slots, low=1)
        self.slots = slots
        self.lease_timeout = lease_timeout
        self._leases: set[Lease] = set()
        self._by_asset: dict[str, Lease] = {}
        self._changed: anyio.Event | None = None
        self._paused_until = 0.0
        self.max_in_use: int = 0
        self.expected_processing: float | None = None
        """How long processing usually takes here (a moving average of what was seen)."""

    def __repr__(self) -> str:
        return f"InProcessAssetLimiter(slots={self.slots}, in_use={self.in_use})"

    @property
    def in_use(self) -> int:
        """Slots currently held."""
        return len(self._leases)

    async def acquire(self) -> Lease:
        """Wait for a free slot and take it."""
        while True:
            self._expire()
            if len(self._leases) < self.slots:
                lease = Lease(anyio.current_time() + self.lease_timeout)
                self._leases.add(lease)
                self.max_in_use = max(self.max_in_use, len(self._leases))
                return lease
            changed = self._changed = self._changed or anyio.Event()
            with anyio.move_on_after(self._next_expiry()):
                await changed.wait()

    async def bind(self, lease: Lease, asset: Asset) -> None:
        """Attach the lease to the uploaded asset, or free it if the asset is not processing."""
        held = self._by_asset.get(asset.id)
        if asset.status != "PROCESSING" or (held is not None and held is not lease):
            self._release(lease)  # finished already, or a duplicate counted by another lease
            return
        lease.asset_id = asset.id
        self._by_asset[asset.id] = lease

    async def release(self, lease: Lease) -> None:
        """Give a slot back and wake the waiters."""
        self._release(lease)

    async def observe(self, assets: Iterable[Asset]) -> None:
        """Free the slots of assets seen in a final status (READY, FAILED, anything else)."""
        held = self._by_asset
        if not held:
            return
        for asset in assets:  # a call only for the assets holding a slot here
            if asset.id in held and asset.status != "PROCESSING":
                self._forget(asset.id)

    async def forget(self, asset_id: str) -> None:
        """Free the slot of an asset that is gone (deleted, or unknown to the server)."""
        self._forget(asset_id)

    def learn(self, duration: float) -> None:
        """Fold one observed processing duration into ``expected_processing``."""
        previous = self.expected_processing
        self.expected_processing = duration if previous is None else (previous + duration) / 2

    async def pause(self, seconds: float) -> None:
        """Hold this process's uploads back for ``seconds``."""
        self._paused_until = max(self._paused_until, anyio.current_time() + seconds)

    async def cooled(self) -> None:
        """Sleep until the pause (if any) is over."""
        # A later 429 may push the end back while we sleep: sleep again until it holds.
        while (left := self._paused_until - anyio.current_time()) > 0:  # noqa: ASYNC110
            await anyio.sleep(left)

    async def aclose(self) -> None:
        """Nothing to close: everything lives in this process."""

    def _release(self, lease: Lease) -> None:
        if lease in self._leases:
            self._leases.discard(lease)
            if lease.asset_id is not None and self._by_asset.get(lease.asset_id) is lease:
                del self._by_asset[lease.asset_id]
            self._wake()

    def _forget(self, asset_id: str) -> None:
        lease = self._by_asset.get(asset_id)
        if lease is not None:
            self._release(lease)

    def _wake(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    def _expire(self) -> None:
        now = anyio.current_time()
        for lease in [lease for lease in self._leases if lease.expires_at <= now]:
            self._release(lease)

    def _next_expiry(self) -> float:
        if not self._leases:
            return math.inf
        return max(0.0, min(lease.expires_at for lease in self._leases) - anyio.current_time())

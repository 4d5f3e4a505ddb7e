"""The workspace's limit of 5 assets processing at once, enforced on the client side.

An upload takes a slot before its POST and keeps it until the client sees the asset leave
PROCESSING (through ``get``, ``list`` or ``wait_until_ready``) or go (``delete``, a 404), so
50 concurrent uploads run 5 at a time without provoking a single 429, at the limit's full
throughput. A slot whose asset is never looked at again is reclaimed after ``lease_timeout``
seconds, so a forgotten asset cannot block the client for ever.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import anyio

from .errors import InvalidRequestError
from .models import Asset

__all__ = ["AssetLimiter", "Lease"]


class Lease:
    """One held slot; bound to an asset id once the server has assigned one."""

    __slots__ = ("asset_id", "expires_at")

    def __init__(self, expires_at: float) -> None:
        self.asset_id: str | None = None
        self.expires_at = expires_at


class AssetLimiter:
    """Counts processing assets; ``acquire`` waits while ``slots`` are all taken."""

    def __init__(self, slots: int, *, lease_timeout: float = 900.0) -> None:
        if slots < 1:
            raise InvalidRequestError("asset_concurrency", "must be at least 1")
        self.slots = slots
        self.lease_timeout = lease_timeout
        self._leases: set[Lease] = set()
        self._by_asset: dict[str, Lease] = {}
        self._changed: anyio.Event | None = None
        self.max_in_use = 0
        self.expected_processing: float | None = None
        """How long processing usually takes here (a moving average of what was seen)."""

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

    def bind(self, lease: Lease, asset: Asset) -> None:
        """Attach the lease to the uploaded asset, or free it if the asset is not processing."""
        held = self._by_asset.get(asset.id)
        if asset.status != "PROCESSING" or (held is not None and held is not lease):
            self.release(lease)  # finished already, or a duplicate counted by another lease
            return
        lease.asset_id = asset.id
        self._by_asset[asset.id] = lease

    def release(self, lease: Lease) -> None:
        """Give a slot back and wake the waiters."""
        if lease in self._leases:
            self._leases.discard(lease)
            if lease.asset_id is not None:
                self._by_asset.pop(lease.asset_id, None)
            self._wake()

    def observe(self, assets: Iterable[Asset]) -> None:
        """Free the slots of assets seen in a final status (READY, FAILED, anything else)."""
        if not self._by_asset:
            return
        for asset in assets:
            if asset.status != "PROCESSING":
                self.forget(asset.id)

    def forget(self, asset_id: str) -> None:
        """Free the slot of an asset that is gone (deleted, or unknown to the server)."""
        lease = self._by_asset.get(asset_id)
        if lease is not None:
            self.release(lease)

    def learn(self, duration: float) -> None:
        """Fold one observed processing duration into ``expected_processing``."""
        previous = self.expected_processing
        self.expected_processing = duration if previous is None else (previous + duration) / 2

    def _wake(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    def _expire(self) -> None:
        now = anyio.current_time()
        for lease in [lease for lease in self._leases if lease.expires_at <= now]:
            self.release(lease)

    def _next_expiry(self) -> float:
        if not self._leases:
            return math.inf
        return max(0.0, min(lease.expires_at for lease in self._leases) - anyio.current_time())

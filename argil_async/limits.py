"""Asset-processing limiters: the workspace allows 5 assets in PROCESSING at once.

``AsyncArgil`` counts its own uploads with an :class:`InProcessAssetLimiter` (the default,
``asset_concurrency=5``). Several processes sharing one workspace (web workers, replicas,
batch workers on several machines) share one count through Redis instead::

    from argil_async import AsyncArgil
    from argil_async.limits import RedisAssetLimiter

    limiter = RedisAssetLimiter("redis://cache:6379/0", name="workspace-acme")
    async with AsyncArgil(asset_limiter=limiter) as client:
        asset = await client.assets.upload(name="b", type="IMAGE", url="https://...")

Importing this module needs the ``redis`` package (``pip install "argil-async[redis]"``);
``import argil_async`` alone never imports it. Any object with the methods of
:class:`AssetLimiter` may be passed as ``asset_limiter``.
"""

from __future__ import annotations

from ._exports import rehome as _rehome
from ._limits import AssetLimiter as AssetLimiter
from ._limits import InProcessAssetLimiter as InProcessAssetLimiter
from ._limits import Lease as Lease
from ._redis_limiter import LimiterUnavailableError as LimiterUnavailableError
from ._redis_limiter import RedisAssetLimiter as RedisAssetLimiter
from ._redis_limiter import RedisLease as RedisLease

__all__ = [
    "AssetLimiter",
    "InProcessAssetLimiter",
    "Lease",
    "LimiterUnavailableError",
    "RedisAssetLimiter",
    "RedisLease",
]

_rehome(__name__, globals())

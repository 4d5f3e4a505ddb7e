"""Asset-processing limiters: the workspace allows 5 assets in PROCESSING at once.

``AsyncArgil`` counts its own uploads with an
[`InProcessAssetLimiter`][argil_async.limits.InProcessAssetLimiter] (the default,
``asset_concurrency=5``). Several processes sharing one workspace (web workers, replicas, batch
workers on several machines) share one count through Redis instead:

```python
from argil_async import AsyncArgil
from argil_async.limits import RedisAssetLimiter

limiter = RedisAssetLimiter("redis://cache:6379/0", name="workspace-acme")
async with AsyncArgil(asset_limiter=limiter) as client:
    asset = await client.assets.upload(name="b", type="IMAGE", url="https://...")
```

The Redis names need the ``redis`` package (``pip install "argil-async[redis]"``); they
import it on first use, so ``import argil_async`` (and this module) never does. Any object
with the methods of [`AssetLimiter`][argil_async.limits.AssetLimiter] may be passed as
``asset_limiter``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._local import AssetLimiter as AssetLimiter
from ._local import InProcessAssetLimiter as InProcessAssetLimiter
from ._local import Lease as Lease

if TYPE_CHECKING:  # loaded on first use: they need the redis package
    from ._redis import LimiterUnavailableError as LimiterUnavailableError
    from ._redis import RedisAssetLimiter as RedisAssetLimiter
    from ._redis import RedisLease as RedisLease

__all__ = [
    "AssetLimiter",
    "InProcessAssetLimiter",
    "Lease",
    "LimiterUnavailableError",
    "RedisAssetLimiter",
    "RedisLease",
]

_REDIS_NAMES = ("LimiterUnavailableError", "RedisAssetLimiter", "RedisLease")


def __getattr__(name: str) -> Any:
    """The Redis limiter's names, imported (with redis) on first use."""
    if name in _REDIS_NAMES:
        from . import _redis

        for loaded in _REDIS_NAMES:
            globals()[loaded] = getattr(_redis, loaded)  # the next access skips __getattr__
        _rehome_loaded()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rehome_loaded() -> None:
    """Classes report ``argil_async.limits`` as their module (those loaded so far)."""
    from .._exports import rehome

    namespace = globals()
    rehome(__name__, {**namespace, "__all__": [n for n in __all__ if n in namespace]})


_rehome_loaded()

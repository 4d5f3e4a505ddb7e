"""B-roll given by URL: uploaded once per run and URL, through the client's asset limiter.

``client.assets.upload(wait=True)`` holds one of the client's asset slots until the asset
leaves PROCESSING, so a batch never has more than the workspace's 5 assets processing and
never provokes the limit's 429. Uploading is idempotent (the API answers a repeated URL with
the existing asset), so uploads need no journal state: a resumed job simply asks again.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from .._client import AsyncArgil
from ._jobs import Job

if TYPE_CHECKING:
    from ..models import UploadType

__all__ = ["Uploads"]


class Uploads:
    """Asset ids by source URL; concurrent jobs sharing a URL wait for one upload."""

    def __init__(self, client: AsyncArgil) -> None:
        self._client = client
        self._ids: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def resolve(self, job: Job) -> dict[str, str]:
        """Upload the job's B-roll URLs (unless already done); return their asset ids."""
        return {url: await self._asset_id(url, kind) for url, kind in job.uploads()}

    async def _asset_id(self, url: str, kind: str) -> str:
        async with self._locks.setdefault(url, asyncio.Lock()):
            if url not in self._ids:
                name = urlsplit(url).path.rsplit("/", 1)[-1] or "b-roll"
                upload_type = cast("UploadType", kind)  # IMAGE or VIDEO, checked with the job
                asset = await self._client.assets.upload(name=name[:256], type=upload_type, url=url)
                self._ids[url] = asset.id
        return self._ids[url]

"""``client.assets``: B-roll uploads and the system music library."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import Final

import anyio
import msgspec
from typing_extensions import Unpack

from .. import _validation as check
from .._decoding import DECODE_ERRORS, create_at_of, decode, invalid_body, list_decoder
from .._options import RequestOptions, WaitOptions, check_options
from .._pagination import AsyncPaginator, Page, header_page
from .._polling import Goal, Hooks, wait_for_status
from .._raw import RawMethod, RawResponseView
from ..errors import NotFoundError, RateLimitError, WaitTimeoutError
from ..limits._local import AssetLimiter, InProcessAssetLimiter
from ..models import Asset, AssetStatus, AssetType, UploadType
from ..models._base import fold_create_at
from ._asset_watch import watch_for
from ._base import Resource

__all__ = ["AsyncAssetsResource"]


_ASSET_LIST = builtins.list[Asset]  # what a page decodes to (named in its decoding errors)
_decode_assets = list_decoder(Asset)  # decode(_ASSET_LIST, ...)'s usual path, inline per page


class _UploadBody(msgspec.Struct):
    """The POST /assets body."""

    name: str
    type: str
    url: str


class AsyncAssetsResource(Resource):
    """Upload images and videos by URL for B-roll; list the AUDIO tracks for music."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> AsyncAssetsResourceWithRawResponse:
        """The same methods, each returning a ``RawResponse`` (status, headers, request id).

        Example: ``raw = await client.assets.with_raw_response.get(...)``, then
        ``raw.status_code``, ``raw.request_id`` and ``raw.parse()``.
        """
        return AsyncAssetsResourceWithRawResponse(self)

    async def get(self, id: str, **options: Unpack[RequestOptions]) -> Asset:
        """Fetch one asset (the upload's status lives here)."""
        path = f"/assets/{check.path_id('id', id)}"
        try:
            asset, _ = await self._client._get(path, Asset, options=options)
        except NotFoundError:
            await self._client._asset_limiter.forget(id)  # gone: it processes nothing any more
            raise
        await self._client._asset_limiter.observe((asset,))
        return asset

    def list(
        self,
        *,
        type: AssetType | Sequence[AssetType] | None = None,
        status: AssetStatus | None = None,
        page_size: int | None = None,
        **options: Unpack[RequestOptions],
    ) -> AsyncPaginator[Asset]:
        """Iterate over assets; the server lists only READY ones unless ``status`` is given.

        ``type`` is AUDIO, IMAGE or VIDEO, or a list of them. Example:

        ```python
        async for track in client.assets.list(type="AUDIO"):
            print(track.name, track.file_url)
        ```
        """
        # check.query(type=..., status=..., pageSize=...) built inline, its checks in the
        # same order: the usual values (one plain type, a plain status) need no call.
        base: builtins.list[tuple[str, str]] = []
        if type is not None:
            if builtins.type(type) is str and type and type.isascii():  # text_list's rule
                base.append(("type", type))
            else:
                types = check.text_list("type", [type] if isinstance(type, str) else type)
                for kind in types:
                    base.append(("type", str(kind)))
        if page_size is not None and not (
            builtins.type(page_size) is int and 1 <= page_size <= 100
        ):
            check.page_size(page_size)  # raises: only the usual sizes skip the call
        if options:
            check_options(options)
        if status is not None:
            state: object = status
            if not (builtins.type(state) is str and state and state.isascii()):
                state = check.query_value("status", state)
            base.append(("status", str(state)))
        if page_size is not None:
            base.append(("pageSize", str(page_size)))

        client = self._client

        async def fetch(page: int) -> Page[Asset]:
            params = (*base, ("page", str(page)))  # a tuple: the request keeps it as is
            # client._get inlined: one coroutine fewer on every page's path
            response = await client._request("GET", "/assets", params=params, options=options)
            try:  # decode(_ASSET_LIST, body), inlined: no call of its own
                items = _decode_assets(response.body)
            except DECODE_ERRORS as exc:
                raise invalid_body(_ASSET_LIST, response.body, exc) from exc
            if any(map(create_at_of, items)):  # the docs' other spelling (see decode)
                fold_create_at(items)
            limiter = client._asset_limiter
            # (the default limiter's observe returns at once while it holds no upload: skipped)
            if builtins.type(limiter) is not InProcessAssetLimiter or limiter._by_asset:
                await limiter.observe(items)
            return header_page(items, response.headers, page, page_size or 20)

        return AsyncPaginator(fetch)

    async def upload(
        self,
        *,
        name: str,
        type: UploadType,
        url: str,
        wait: bool = True,
        timeout: float = 900.0,
        poll_interval: float = 0.5,
        **options: Unpack[WaitOptions],
    ) -> Asset:
        """Upload an IMAGE or VIDEO from a public URL; with ``wait`` return it READY.

        At most ``asset_concurrency`` uploads are processing at once (or the slots of the
        client's ``asset_limiter``): further calls wait for a slot rather than provoke a 429.
        A 429 caused by another process is waited out, and its Retry-After pauses every
        upload that shares the limiter. The uploads waiting meanwhile share their polls: one
        listing of the PROCESSING assets serves them all, so an upload costs about 2 calls.
        Raises GenerationFailedError if processing fails; ``timeout`` bounds the whole call,
        and the options go with each request. ``with_raw_response(client.assets.upload, ...)``
        tells a new asset (``status_code`` 201) from an existing one (200). Example:

        ```python
        asset = await client.assets.upload(name="logo", type="IMAGE", url="https://...")
        ```
        """
        kind = check.enum("type", type)
        body = _UploadBody(check.name("name", name), kind, check.url("url", url))
        timeout = check.seconds("timeout", timeout)
        poll_interval = check.seconds("poll_interval", poll_interval)
        check.boolean("wait", wait)
        deadline = anyio.current_time() + timeout
        limiter = self._client._asset_limiter
        lease = None
        with anyio.move_on_after(timeout):
            lease = await limiter.acquire()
        if lease is None:
            raise WaitTimeoutError(f"no upload slot freed within {timeout:g} s")
        try:
            asset = await self._create(body, deadline, options)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await limiter.release(lease)
            raise
        await limiter.bind(lease, asset)
        if not wait:
            return asset
        remaining = max(deadline - anyio.current_time(), 0.001)
        return await self._wait_ready(asset.id, remaining, poll_interval, options, first=asset)

    async def _create(self, body: _UploadBody, deadline: float, options: WaitOptions) -> Asset:
        """POST /assets (safe to resend: a duplicate comes back as 200), outlasting 429s."""
        delay = 1.0
        limiter = self._client._asset_limiter
        while True:
            await _cooled(limiter, deadline)  # a 429 seen by anyone sharing it pauses us
            try:
                response = await self._client._request(
                    "POST", "/assets", body=body, idempotent=True, options=options
                )
            except RateLimitError as exc:
                wait = exc.retry_after or delay  # a Retry-After of 0 must not spin
                if anyio.current_time() + wait > deadline:
                    raise
                await anyio.sleep(wait)
                delay = min(delay * 2, 30.0)
                continue
            return decode(Asset, response.body)

    async def wait_until_ready(
        self,
        id: str,
        *,
        timeout: float = 900.0,
        poll_interval: float = 1.0,
        **options: Unpack[WaitOptions],
    ) -> Asset:
        """Poll until the asset is READY; GenerationFailedError if it FAILED.

        Polls are timed by how long this client has seen processing take so far, and shared
        with every other asset being waited on (one listing of the PROCESSING assets).
        ``timeout`` bounds the whole wait; the options go with every poll.
        """
        check.path_id("id", id)
        return await self._wait_ready(id, timeout, poll_interval, options)

    async def _wait_ready(
        self,
        id: str,
        timeout: float,
        poll_interval: float,
        options: WaitOptions,
        *,
        first: Asset | None = None,
    ) -> Asset:
        limiter = self._client._asset_limiter
        goal: Goal[Asset] = Goal(f"asset {id}", done=("READY",), failed=("FAILED",))
        hooks: Hooks[Asset] = Hooks(estimate=limiter)
        if options:  # a call's own options go with its own polls
            return await wait_for_status(
                lambda: self.get(id, **options),
                goal,
                timeout=timeout,
                poll_interval=poll_interval,
                first=first,
                hooks=hooks,
            )
        # Polls shared with every asset waited on through this limiter: a listing taken
        # within ~2% of the usual processing time is fresh enough for the waiters of one
        # wave (started together) to share it.
        watch = watch_for(limiter)
        async with watch.watching(id):
            return await wait_for_status(
                lambda: watch.poll(self, id, 0.02 * (limiter.expected_processing or poll_interval)),
                goal,
                timeout=timeout,
                poll_interval=poll_interval,
                first=first,
                hooks=hooks,
            )

    async def delete(self, id: str, **options: Unpack[RequestOptions]) -> None:
        """Delete an uploaded asset (a soft delete: videos that use it still render)."""
        path = f"/assets/{check.path_id('id', id)}"
        await self._client._request("DELETE", path, options=options)
        await self._client._asset_limiter.forget(id)


async def _cooled(limiter: AssetLimiter, deadline: float) -> None:
    """Wait out a shared pause, or raise WaitTimeoutError if it outlasts the deadline."""
    with anyio.move_on_after(max(deadline - anyio.current_time(), 0.0)) as scope:
        await limiter.cooled()
    if scope.cancelled_caught:
        raise WaitTimeoutError("uploads stayed paused by a 429 until the call's timeout")


class AsyncAssetsResourceWithRawResponse(RawResponseView):
    """``client.assets.with_raw_response``: each method returns a ``RawResponse``."""

    __slots__ = ()

    get: Final = RawMethod(AsyncAssetsResource.get)
    upload: Final = RawMethod(AsyncAssetsResource.upload)
    wait_until_ready: Final = RawMethod(AsyncAssetsResource.wait_until_ready)
    delete: Final = RawMethod(AsyncAssetsResource.delete)

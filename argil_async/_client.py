"""AsyncArgil: configuration, the request pipeline, and the resources hung off it."""

from __future__ import annotations

import os
from collections.abc import Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

from . import errors
from ._decoding import decode, encode
from ._limits import AssetLimiter, InProcessAssetLimiter
from ._redact import register_secret
from ._resources.assets import AssetsResource
from ._resources.avatars import AvatarsResource
from ._resources.subtitles import SubtitlesResource
from ._resources.videos import VideosResource
from ._resources.voices import VoicesResource
from ._resources.webhooks import WebhooksResource
from ._retry import RetryPolicy, with_retries
from ._transport import (
    DEFAULT_MAX_RESPONSE_SIZE,
    AiohttpTransport,
    Request,
    Response,
    Timeout,
    Transport,
    parse_retry_after,
    raise_for_status,
)
from ._urls import is_https_or_loopback

__all__ = ["DEFAULT_BASE_URL", "AsyncArgil"]

DEFAULT_BASE_URL = "https://api.argil.ai/v1"
T = TypeVar("T")


class AsyncArgil:
    """The asyncio client for the Argil API. Share one per application; close it when done.

    Example::

        async with AsyncArgil() as client:          # reads ARGIL_API_KEY
            avatars = await client.avatars.list()
            async for asset in client.assets.list(status="READY"):
                print(asset.name)

    ``api_key`` defaults to ``ARGIL_API_KEY``; ``base_url`` to ``ARGIL_BASE_URL``, else the
    public API. ``timeout`` is the read timeout in seconds (or a :class:`Timeout` for each
    phase). ``max_retries`` resends failed requests where that is safe. ``asset_concurrency``
    caps how many uploaded assets may be processing at once (the workspace allows 5);
    ``asset_limiter`` replaces that count with a limiter of your own, such as
    ``argil_async.limits.RedisAssetLimiter`` to share the 5 slots across a fleet of processes.
    ``max_response_size`` (bytes, default 32 MiB) bounds any API response body: a larger one
    raises :class:`ResponseTooLargeError` instead of filling memory. The key is masked (``***``)
    in every error, even when the server echoes it.

    For tests: ``retry_policy`` replaces the whole policy, ``max_retries`` included (e.g.
    ``RetryPolicy(wait_scale=0)`` turns the waits off), and ``transport`` replaces the HTTP
    layer with any object that has ``send``, ``stream`` and ``aclose``.
    """

    assets: AssetsResource
    avatars: AvatarsResource
    voices: VoicesResource
    videos: VideosResource
    subtitles: SubtitlesResource
    webhooks: WebhooksResource

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout = 60.0,
        max_retries: int = 2,
        *,
        asset_concurrency: int | None = None,
        asset_limiter: AssetLimiter | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        transport: Transport | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("ARGIL_API_KEY")
        if not key:
            raise errors.InvalidRequestError(
                "api_key",
                "no API key: pass AsyncArgil(api_key=...) or set the ARGIL_API_KEY "
                "environment variable",
            )
        if key != key.strip() or not key.isprintable():
            raise errors.InvalidRequestError(
                "api_key", "has spaces around it or control characters in it (a line ending?)"
            )
        url = base_url or os.environ.get("ARGIL_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = _checked_base_url(url)
        if max_retries < 0:
            raise errors.InvalidRequestError("max_retries", "must be 0 or more")
        self.timeout = Timeout.of(timeout)
        self.max_retries = max_retries
        self._api_key = key
        register_secret(key)
        self.max_response_size = _checked_size(max_response_size)
        self._transport: Transport = transport or AiohttpTransport(
            self.base_url,
            {"x-api-key": key, "Accept": "application/json"},
            self.timeout,
            max_response_size=self.max_response_size,
        )
        policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._send = with_retries(self._send_once, policy)
        self._asset_limiter = _asset_limiter(asset_concurrency, asset_limiter)
        self.assets = AssetsResource(self)
        self.avatars = AvatarsResource(self)
        self.voices = VoicesResource(self)
        self.videos = VideosResource(self)
        self.subtitles = SubtitlesResource(self)
        self.webhooks = WebhooksResource(self)

    def __repr__(self) -> str:
        return f"AsyncArgil(base_url={self.base_url!r}, api_key='***')"

    async def __aenter__(self) -> AsyncArgil:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP session; the client may be used again afterwards (a new one opens)."""
        await self._transport.aclose()
        await self._asset_limiter.aclose()

    async def _send_once(self, request: Request) -> Response:
        response = await self._transport.send(request)
        if response.status == 429 and request.method == "POST" and request.path == "/assets":
            await _pause_uploads(self._asset_limiter, response)
        raise_for_status(response)
        if len(response.body) > self.max_response_size:  # a transport that did not enforce it
            raise errors.ResponseTooLargeError(self.max_response_size, received=len(response.body))
        return response

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        idempotent: bool | None = None,
    ) -> Response:
        """Send one API request through the retry policy and return the 2xx response."""
        if idempotent is None:
            idempotent = method != "POST"
        payload = None if body is None else encode(body)
        return await self._send(Request(method, path, tuple(params), payload, idempotent))

    async def _get(
        self, path: str, cls: type[T], params: Sequence[tuple[str, str]] = ()
    ) -> tuple[T, Response]:
        """GET ``path`` and decode its body as ``cls``."""
        response = await self._request("GET", path, params=params)
        return decode(cls, response.body), response


def _asset_limiter(concurrency: int | None, limiter: AssetLimiter | None) -> AssetLimiter:
    """The limiter to use: the one given, else an in-process one of ``concurrency`` slots."""
    if limiter is None:
        return InProcessAssetLimiter(5 if concurrency is None else concurrency)
    if concurrency is not None:
        raise errors.InvalidRequestError(
            "asset_limiter", "give asset_concurrency or asset_limiter, not both"
        )
    if not isinstance(limiter, AssetLimiter):
        raise errors.InvalidRequestError(
            "asset_limiter", f"must implement argil_async.limits.AssetLimiter, got {limiter!r}"
        )
    return limiter


async def _pause_uploads(limiter: AssetLimiter, response: Response) -> None:
    """A 429 on an upload with a Retry-After: every upload sharing ``limiter`` waits it out."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if retry_after is not None and retry_after > 0:
        await limiter.pause(retry_after)


def _checked_size(size: int) -> int:
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise errors.InvalidRequestError(
            "max_response_size", f"must be a whole number of bytes from 1 up, got {size!r}"
        )
    return size


def _checked_base_url(url: str) -> str:
    if not is_https_or_loopback(url):
        host = urlsplit(url).hostname if "://" in url else None
        raise errors.InvalidRequestError(
            "base_url",
            f"must be an https:// URL (plain http is allowed only for loopback hosts), "
            f"got host {host!r}",
        )
    return url.rstrip("/")

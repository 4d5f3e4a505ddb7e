"""AsyncArgil: configuration, the request pipeline, and the resources hung off it."""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import anyio
import msgspec
from typing_extensions import Unpack

from . import _validation as check
from . import errors
from ._bodies import DEFAULT_MAX_RESPONSE_SIZE
from ._decoding import decode, encode
from ._observe import CallObserver, configure_logging, logger, run_observed, wants_observer
from ._options import RequestOptions, check_options, merged_query
from ._redact import register_secret
from ._resources.assets import AsyncAssetsResource
from ._resources.avatars import AsyncAvatarsResource
from ._resources.subtitles import AsyncSubtitlesResource
from ._resources.videos import AsyncVideosResource
from ._resources.voices import AsyncVoicesResource
from ._resources.webhooks import AsyncWebhooksResource
from ._retry import RetryPolicy, with_retries
from ._seam import Request, Response, Timeout, Transport
from ._status import parse_retry_after, raise_for_status
from ._transport import AiohttpTransport, ConnectorArg, TraceConfigs
from ._urls import is_https_or_loopback
from .limits._local import AssetLimiter, InProcessAssetLimiter

__all__ = ["DEFAULT_BASE_URL", "AsyncArgil"]

DEFAULT_BASE_URL = "https://api.argil.ai/v1"
T = TypeVar("T")
Send = Callable[[Request], Awaitable[Response]]
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


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

    HTTP: proxies come from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (``trust_env``) or
    ``proxy``; ``trace_configs`` (aiohttp ``TraceConfig``) observe each request; ``connector``
    is an aiohttp connector (limits, TLS), or a function making one, which lets the client
    move to a new event loop. Every API method also takes the :class:`RequestOptions`
    keywords, and :meth:`with_options` makes a copy with other defaults.

    For tests: ``retry_policy`` replaces the whole policy, ``max_retries`` included (e.g.
    ``RetryPolicy(wait_scale=0)`` turns the waits off), and ``transport`` replaces the HTTP
    layer with any object that has ``send``, ``stream`` and ``aclose``.
    """

    assets: AsyncAssetsResource
    avatars: AsyncAvatarsResource
    voices: AsyncVoicesResource
    videos: AsyncVideosResource
    subtitles: AsyncSubtitlesResource
    webhooks: AsyncWebhooksResource

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | Timeout = 60.0,
        max_retries: int = 2,
        *,
        asset_concurrency: int = 5,
        asset_limiter: AssetLimiter | None = None,
        proxy: str | None = None,
        trust_env: bool = True,
        trace_configs: TraceConfigs = (),
        connector: ConnectorArg | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
        transport: Transport | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        key = _checked_key(api_key if api_key is not None else os.environ.get("ARGIL_API_KEY"))
        if base_url is not None:
            check.text("base_url", base_url)
        url = base_url or os.environ.get("ARGIL_BASE_URL") or DEFAULT_BASE_URL
        self.base_url = _checked_base_url(url)
        self.timeout = check.timeout("timeout", timeout)
        self.max_retries = check.integer("max_retries", max_retries, low=0)
        check.integer("asset_concurrency", asset_concurrency, low=1)
        if retry_policy is not None and not isinstance(retry_policy, RetryPolicy):
            raise check.fail("retry_policy", "must be a RetryPolicy", retry_policy)
        if transport is not None and not all(
            callable(getattr(transport, name, None)) for name in ("send", "stream", "aclose")
        ):
            raise check.fail("transport", "must have send, stream and aclose methods", transport)
        self._api_key = key
        register_secret(key)
        self.max_response_size = _checked_size(max_response_size)
        self._transport: Transport = transport or AiohttpTransport(
            self.base_url,
            {"x-api-key": key, "Accept": "application/json"},
            self.timeout,
            proxy=proxy,
            trust_env=trust_env,
            trace_configs=trace_configs,
            connector=connector,
            max_response_size=self.max_response_size,
        )
        self._policy = retry_policy or RetryPolicy(max_retries=max_retries)
        self._send = with_retries(self._send_once, self._policy)
        self._senders: dict[int, Send] = {self._policy.max_retries: self._send}
        # A total deadline covers each whole call, retries included: the options path has it.
        self._defaults: RequestOptions = (
            {} if self.timeout.total is None else {"timeout": self.timeout}
        )
        self._server = _server_of(self.base_url)
        self._asset_limiter = _asset_limiter(asset_concurrency, asset_limiter)
        configure_logging()
        self._attach_resources()

    def _attach_resources(self) -> None:
        self.assets = AsyncAssetsResource(self)
        self.avatars = AsyncAvatarsResource(self)
        self.voices = AsyncVoicesResource(self)
        self.videos = AsyncVideosResource(self)
        self.subtitles = AsyncSubtitlesResource(self)
        self.webhooks = AsyncWebhooksResource(self)

    def __repr__(self) -> str:
        return f"AsyncArgil(base_url={self.base_url!r}, api_key='***')"

    def with_options(self, **options: Unpack[RequestOptions]) -> AsyncArgil:
        """A copy of this client with other defaults, sharing its HTTP session and limiter.

        Example::

            patient = client.with_options(timeout=Timeout(total=120), max_retries=5)
            video = await patient.videos.get(video_id)

        Closing either closes the shared session (the next call opens a new one).
        """
        checked = check_options(options)
        clone = copy.copy(self)
        clone._defaults = {**self._defaults, **checked}
        clone.timeout = checked.get("timeout", self.timeout)  # type: ignore[assignment]
        clone.max_retries = checked.get("max_retries", self.max_retries)
        clone._attach_resources()
        return clone

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
        observer: CallObserver | None = request.observer
        if observer is None:
            response = await self._transport.send(request)
        else:
            started = observer.attempt_started()
            try:
                response = await self._transport.send(request)
            except BaseException as exc:
                observer.attempt_ended(started, None, exc)
                raise
            observer.attempt_ended(started, response, None)
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
        options: Mapping[str, Any] | None = None,
    ) -> Response:
        """Send one API request through the retry policy and return the 2xx response."""
        if idempotent is None:
            idempotent = method != "POST"
        options = {**self._defaults, **check_options(options)} if options else self._defaults
        if options:
            return await self._request_with(method, path, params, body, idempotent, options)
        payload = None if body is None else encode(body)
        request = Request(method, path, tuple(params), payload, idempotent)
        log = logger.isEnabledFor(logging.INFO)
        if wants_observer(log):
            return await self._observed(request, self._send, log)
        return await self._send(request)

    async def _request_with(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        body: Any,
        idempotent: bool,
        options: Mapping[str, Any],
    ) -> Response:
        """The same, with per-call options: timeouts, retries, extra headers/query/body."""
        extra_body = options.get("extra_body")
        if extra_body is not None and method in _BODY_METHODS:
            body = {**(msgspec.to_builtins(body) if body is not None else {}), **extra_body}
        timeout = options.get("timeout")
        request = Request(
            method,
            path,
            merged_query(params, options.get("extra_query", {})),
            None if body is None else encode(body),
            idempotent,
            options.get("extra_headers", {}),
            timeout=timeout,
        )
        send = self._sender(options.get("max_retries", self._policy.max_retries))
        total = (timeout if isinstance(timeout, Timeout) else self.timeout).total
        log = logger.isEnabledFor(logging.INFO)
        if total is None:
            return await self._observed(request, send, log)
        with anyio.move_on_after(total):
            return await self._observed(request, send, log)
        raise errors.APITimeoutError(f"{method} {path} did not finish within {total:g} s")

    def _sender(self, max_retries: int) -> Send:
        """The retry pipeline for ``max_retries`` (built once per distinct value)."""
        send = self._senders.get(max_retries)
        if send is None:
            policy = dataclasses.replace(self._policy, max_retries=max_retries)
            send = self._senders[max_retries] = with_retries(self._send_once, policy)
        return send

    async def _observed(self, request: Request, send: Send, log: bool) -> Response:
        if not wants_observer(log):
            return await send(request)
        observer = CallObserver(request.method, request.path, self._server, log)
        request = dataclasses.replace(request, observer=observer)
        return await run_observed(send, request, observer)

    async def _get(
        self,
        path: str,
        cls: type[T],
        params: Sequence[tuple[str, str]] = (),
        options: Mapping[str, Any] | None = None,
    ) -> tuple[T, Response]:
        """GET ``path`` and decode its body as ``cls``."""
        response = await self._request("GET", path, params=params, options=options)
        return decode(cls, response.body), response


def _asset_limiter(concurrency: int, limiter: AssetLimiter | None) -> AssetLimiter:
    """The limiter to use: the one given, else an in-process one of ``concurrency`` slots."""
    if limiter is None:
        return InProcessAssetLimiter(concurrency)
    if concurrency != 5:  # 5, the default, is what a limiter's owner would mean anyway
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


def _server_of(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)


def _checked_key(key: object) -> str:
    """A key that can go in a header; never echoed in the error, even in part."""
    if key is None or key == "":
        raise errors.InvalidRequestError(
            "api_key",
            "no API key: pass AsyncArgil(api_key=...) or set the ARGIL_API_KEY "
            "environment variable",
        )
    if not isinstance(key, str):
        raise check.fail("api_key", f"must be a string, not {type(key).__name__}")
    if key != key.strip() or not key.isprintable() or not key.isascii():
        raise errors.InvalidRequestError(
            "api_key",
            "has spaces around it, control or non-ASCII characters in it (a line ending?)",
        )
    return key


def _checked_size(size: object) -> int:
    return check.integer("max_response_size", size, low=1)


def _checked_base_url(url: str) -> str:
    if not check.text("base_url", url).isprintable() or not is_https_or_loopback(url):
        try:
            host = urlsplit(url).hostname if "://" in url else None
        except ValueError:
            host = None
        raise errors.InvalidRequestError(
            "base_url",
            f"must be an https:// URL (plain http is allowed only for loopback hosts), "
            f"got host {host!r}",
        )
    return url.rstrip("/")

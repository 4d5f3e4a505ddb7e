"""AsyncArgil: configuration, the request pipeline, and the resources hung off it."""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import anyio
import msgspec
from typing_extensions import Unpack

from . import _observe, errors
from ._bodies import DEFAULT_MAX_RESPONSE_SIZE
from ._config import DEFAULT_BASE_URL, ClientConfig
from ._decoding import decode, encode
from ._observe import (
    SINK,
    CallObserver,
    configure_logging,
    logger,
    run_observed,
)
from ._options import RequestOptions
from ._resources.assets import AsyncAssetsResource
from ._resources.avatars import AsyncAvatarsResource
from ._resources.subtitles import AsyncSubtitlesResource
from ._resources.videos import AsyncVideosResource
from ._resources.voices import AsyncVoicesResource
from ._resources.webhooks import AsyncWebhooksResource
from ._retry import RetryPolicy, resender
from ._seam import ConnectorArg, Request, Response, Timeout, TraceConfigs, Transport
from ._status import parse_retry_after, raise_for_status
from .limits._local import AssetLimiter, InProcessAssetLimiter

__all__ = ["DEFAULT_BASE_URL", "AsyncArgil"]

T = TypeVar("T")
Send = Callable[[Request], Awaitable[Response]]
#: What follows a first attempt's retryable failure (None: retries are off).
Resend = Callable[[Request, errors.ArgilError], Awaitable[Response]] | None


class AsyncArgil:
    """The asyncio client for the Argil API. Share one per application; close it when done.

    Example:

    ```python
    async with AsyncArgil() as client:          # reads ARGIL_API_KEY
        avatars = await client.avatars.list()
        async for asset in client.assets.list(status="READY"):
            print(asset.name)
    ```

    ``api_key`` defaults to ``ARGIL_API_KEY``; ``base_url`` to ``ARGIL_BASE_URL``, else the
    public API. ``timeout`` is the read timeout in seconds (or a [`Timeout`][argil_async.Timeout]
    for each phase). ``max_retries`` resends failed requests where that is safe.
    ``asset_concurrency`` caps how many uploaded assets may be processing at once (the workspace
    allows 5); ``asset_limiter`` replaces that count with a limiter of your own, such as
    ``argil_async.limits.RedisAssetLimiter`` to share the 5 slots across a fleet of processes.
    ``max_response_size`` (bytes, default 32 MiB) bounds any API response body: a larger one
    raises [`ResponseTooLargeError`][argil_async.errors.ResponseTooLargeError] instead of filling
    memory. The key is masked (``***``) in every error, even when the server echoes it.

    HTTP: proxies come from ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY`` (``trust_env``) or
    ``proxy``; ``trace_configs`` (aiohttp ``TraceConfig``) observe each request; ``connector``
    is an aiohttp connector (limits, TLS), or a function making one, which lets the client
    move to a new event loop. Every API method also takes the
    [`RequestOptions`][argil_async.RequestOptions] keywords, and
    [`with_options()`][argil_async.AsyncArgil.with_options] makes a copy with other defaults.

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
        self._configure(
            ClientConfig.resolve(
                api_key,
                base_url,
                timeout,
                max_retries,
                asset_concurrency=asset_concurrency,
                asset_limiter=asset_limiter,
                proxy=proxy,
                trust_env=trust_env,
                trace_configs=trace_configs,
                connector=connector,
                max_response_size=max_response_size,
                transport=transport,
                retry_policy=retry_policy,
            )
        )

    @classmethod
    def _from_config(cls, config: ClientConfig) -> AsyncArgil:
        """A client on a resolved configuration (the sync runtime builds one per event loop)."""
        client = cls.__new__(cls)
        client._configure(config)
        return client

    def _configure(self, config: ClientConfig) -> None:
        """Open this client's own HTTP transport, asset limiter and retry pipeline."""
        self._config = config
        self._options = config.options
        transport = config.transport
        if transport is None:
            from ._transport import AiohttpTransport  # aiohttp: loaded by the first client

            transport = AiohttpTransport(
                config.base_url,
                {"x-api-key": config.api_key, "Accept": "application/json"},
                config.timeout,
                proxy=config.proxy,
                trust_env=config.trust_env,
                trace_configs=config.trace_configs,
                connector=config.connector,
                max_response_size=config.max_response_size,
            )
        self._transport: Transport = transport
        limiter = config.asset_limiter
        self._asset_limiter = limiter or InProcessAssetLimiter(config.asset_concurrency)
        policy = config.retry_policy
        self._resenders: dict[int, Resend] = {policy.max_retries: self._resend_for(policy)}
        configure_logging()
        self._attach_resources()

    def _derive(self, config: ClientConfig) -> AsyncArgil:
        """A client on ``config`` sharing this one's session, limiter and retry pipelines."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)  # (copy.copy's effect, without its calls)
        clone._config, clone._options = config, config.options
        clone._attach_resources()
        return clone

    def _attach_resources(self) -> None:
        self.assets = AsyncAssetsResource(self)
        self.avatars = AsyncAvatarsResource(self)
        self.voices = AsyncVoicesResource(self)
        self.videos = AsyncVideosResource(self)
        self.subtitles = AsyncSubtitlesResource(self)
        self.webhooks = AsyncWebhooksResource(self)

    @property
    def base_url(self) -> str:
        """The API's base URL (``ARGIL_BASE_URL`` if set when the client was made)."""
        return self._config.base_url

    @property
    def timeout(self) -> Timeout:
        """The timeouts each call runs with unless it gives its own."""
        return self._options.timeout

    @property
    def max_retries(self) -> int:
        """The resends allowed per request unless a call gives its own (the policy's)."""
        return self._options.max_retries

    @property
    def max_response_size(self) -> int:
        """The largest API response body accepted, in bytes."""
        return self._config.max_response_size

    def __repr__(self) -> str:
        return f"AsyncArgil(base_url={self.base_url!r}, api_key='***')"

    def with_options(self, **options: Unpack[RequestOptions]) -> AsyncArgil:
        """A copy of this client with other defaults, sharing its HTTP session and limiter.

        Example:

        ```python
        patient = client.with_options(timeout=Timeout(total=120), max_retries=5)
        video = await patient.videos.get(video_id)
        ```

        Closing either closes the shared session (the next call opens a new one).
        """
        return self._derive(self._config.replace(**options))

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

    async def _send_once(self, request: Request, resend: Resend = None) -> Response:
        """One attempt at ``request``; a failure goes on to ``resend`` (the retries), if given.

        The first attempt of every request is made here, backoff's resends too (without
        ``resend``): the retry layer adds no coroutine of its own to a request.
        """
        try:
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
            if response.status >= 300:  # (a 2xx, nearly every response, needs no call here)
                if (
                    response.status == 429
                    and request.method == "POST"
                    and request.path == "/assets"
                ):
                    await _pause_uploads(self._asset_limiter, response)
                raise_for_status(response)
            limit = self._config.max_response_size
            if len(response.body) > limit:  # a transport that did not enforce it
                raise errors.ResponseTooLargeError(limit, received=len(response.body))
            return response
        except errors.ArgilError as exc:
            if resend is None:
                raise
            failure = exc  # resent outside this handler: no retry's error chains onto it
        return await resend(request, failure)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        body: Any = None,
        idempotent: bool | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Awaitable[Response]:
        """Send one API request through the retry policy; await it for the 2xx response.

        One path over resolved options: the client's own `CallOptions` when the call
        gives none (nothing is merged, copied or checked), else those merged with the call's
        (checked here, before anything is sent). A plain ``def`` returning the send's
        awaitable, so that it adds no coroutine of its own to each request; a call that is
        observed (logs, spans, ``with_raw_response``) or bounded by ``Timeout(total=...)``
        goes through `_bounded()`.
        """
        resolved = self._options.merged(options) if options else self._options
        if idempotent is None:
            idempotent = method != "POST"
        if resolved.given:
            request = resolved.request(method, path, params, body, idempotent)
        else:  # CallOptions.request's own fast path, without the call
            payload = None if body is None else encode(body)
            request = Request(method, path, tuple(params), payload, idempotent)
        retries = resolved.max_retries
        try:
            resend = self._resenders[retries]
        except KeyError:
            resend = self._resender(retries)
        total = resolved.timeout.total
        log = logger.isEnabledFor(logging.INFO)
        observed = (  # wants_observer(log), inlined: no call for it on every request
            log
            or SINK.get() is not None
            or (
                (trace := _observe._trace) is not None
                and getattr(trace, "_TRACER_PROVIDER", trace) is not None
            )
        )
        if total is None and not observed:  # the fast path
            return self._send_once(request, resend)
        send = functools.partial(self._send_once, resend=resend)
        return self._bounded(request, send, total, log if observed else None)

    async def _bounded(
        self, request: Request, send: Send, total: float | None, log: bool | None
    ) -> Response:
        """Send ``request`` within ``total`` seconds (retries included) if given, observed
        unless ``log`` is None (logging only if it is True)."""
        if total is None:
            return await self._observed(request, send, log)
        with anyio.move_on_after(total):
            return await self._observed(request, send, log)
        raise errors.APITimeoutError(
            f"{request.method} {request.path} did not finish within {total:g} s"
        )

    def _resender(self, max_retries: int) -> Resend:
        """The retries for ``max_retries`` (built once per distinct value)."""
        policy = dataclasses.replace(self._config.retry_policy, max_retries=max_retries)
        resend = self._resenders[max_retries] = self._resend_for(policy)
        return resend

    def _resend_for(self, policy: RetryPolicy) -> Resend:
        """What follows a failed first attempt under ``policy`` (None without retries)."""
        return None if policy.max_retries == 0 else resender(self._send_once, policy)

    async def _observed(self, request: Request, send: Send, log: bool | None) -> Response:
        if log is None:  # nothing observes the call (`_request` decided it)
            return await send(request)
        observer = CallObserver(request.method, request.path, self._config.server, log)
        request = msgspec.structs.replace(request, observer=observer)
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


async def _pause_uploads(limiter: AssetLimiter, response: Response) -> None:
    """A 429 on an upload with a Retry-After: every upload sharing ``limiter`` waits it out."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if retry_after is not None and retry_after > 0:
        await limiter.pause(retry_after)

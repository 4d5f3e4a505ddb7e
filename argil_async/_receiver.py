"""The webhook receiver exported as ``argil_async.events.WebhookReceiver`` (imports aiohttp.web)."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import inspect
import logging
import secrets
import urllib.parse
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Any, ClassVar, TypeVar, cast

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from argil_async.errors import InvalidRequestError, ResponseValidationError, WaitTimeoutError
from argil_async.events import (
    AvatarEvent,
    AvatarTrainingFailed,
    AvatarTrainingSucceeded,
    Event,
    VideoEvent,
    VideoGenerationFailed,
    VideoGenerationSucceeded,
    parse_event,
)

__all__ = ["WebhookReceiver"]

logger = logging.getLogger("argil_async.events")

HandlerT = TypeVar("HandlerT", bound=Callable[[Event], object])
_Key = tuple[str, str]  # ("video" | "avatar", id)


class _PathOnlyAccessLogger(AbstractAccessLogger):
    """Access-log lines without the query string, so the secret token never reaches the logs."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            '%s "%s %s" %s %.3fs',
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


class _EventStream:
    """Events accepted after its creation, in order; when full, the oldest are dropped."""

    def __init__(self, registry: weakref.WeakSet[_EventStream], max_queued: int) -> None:
        self._registry = registry
        self._queue: asyncio.Queue[Event | None] = asyncio.Queue(max_queued)
        self._closed = False
        registry.add(self)

    def __aiter__(self) -> _EventStream:
        return self

    async def __anext__(self) -> Event:
        if self._closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    async def aclose(self) -> None:
        """Stop receiving events; iteration ends after those already queued."""
        self._registry.discard(self)
        self._close()

    def _put(self, item: Event | None) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            logger.warning("webhook event stream is full; dropped its oldest event")
        self._queue.put_nowait(item)

    def _close(self) -> None:
        if not self._closed:
            self._closed = True
            self._put(None)


class WebhookReceiver:
    """Receive Argil webhook deliveries in an aiohttp.web app and wait for results by id.

    Argil does not sign deliveries, so the receiver authenticates them with a secret token in
    the callback URL's query string (compared in constant time; 401 without it). It answers
    200 as soon as the body is parsed; callbacks run afterwards in tracked tasks. Keep
    ``secret`` stable (pass your own) if registered webhooks must survive restarts::

        receiver = WebhookReceiver(os.environ["ARGIL_WEBHOOK_SECRET"])
        receiver.mount(app)                   # POST /argil/webhook
        await client.webhooks.create(
            callback_url=receiver.callback_url("https://example.com"),
            events=["VIDEO_GENERATION_SUCCESS", "VIDEO_GENERATION_FAILED"],
        )
        event = await receiver.wait_for_video(video.id, timeout=900)

    ``rejected`` counts refusals by reason: ``"unauthorized"`` (401), ``"too_large"`` (413) and
    ``"invalid_body"`` (400). Up to ``max_buffered`` recent video and avatar events are kept,
    so a wait that starts after its event arrived still returns it.
    """

    access_log_class: ClassVar[type[AbstractAccessLogger]] = _PathOnlyAccessLogger
    """An aiohttp access logger that omits query strings (aiohttp's default logs the token):
    ``web.run_app(app, access_log_class=WebhookReceiver.access_log_class)``."""

    def __init__(
        self,
        secret: str | None = None,
        *,
        path: str = "/argil/webhook",
        max_body_size: int = 256 * 1024,
        max_buffered: int = 10_000,
    ) -> None:
        if secret is not None and not secret:
            raise InvalidRequestError("secret", "must be a non-empty string or None")
        if not path.startswith("/"):
            raise InvalidRequestError("path", "must start with '/'")
        if max_body_size <= 0:
            raise InvalidRequestError("max_body_size", "must be positive")
        if max_buffered < 0:
            raise InvalidRequestError("max_buffered", "must not be negative")
        self._secret = secret if secret is not None else secrets.token_urlsafe(32)
        self._secret_bytes = self._secret.encode()
        self._path = path
        self._max_body_size = max_body_size
        self._max_buffered = max_buffered
        self._recent: OrderedDict[_Key, Event] = OrderedDict()
        self._waiters: dict[_Key, set[asyncio.Future[Event]]] = {}
        self._handlers: list[Callable[[Event], object]] = []
        self._streams: weakref.WeakSet[_EventStream] = weakref.WeakSet()
        self._tasks: set[asyncio.Task[None]] = set()
        self._received = 0
        self._rejected: dict[str, int] = {}
        self._handler_errors = 0

    def __repr__(self) -> str:
        return f"WebhookReceiver(path={self._path!r}, received={self._received})"

    @property
    def secret(self) -> str:
        """The token deliveries must carry (``?token=``); store it to keep the URL stable."""
        return self._secret

    @property
    def path(self) -> str:
        """The route path that :meth:`mount` adds."""
        return self._path

    @property
    def received(self) -> int:
        """Deliveries accepted (answered 200) so far."""
        return self._received

    @property
    def rejected(self) -> dict[str, int]:
        """Deliveries refused so far, by reason (a copy)."""
        return dict(self._rejected)

    @property
    def handler_errors(self) -> int:
        """Exceptions raised by callbacks registered with :meth:`on` (logged, then ignored)."""
        return self._handler_errors

    def callback_url(self, public_base_url: str) -> str:
        """The URL to give Argil: ``public_base_url`` + path + ``?token=<secret>``.

        ``callback_url("https://example.com/")`` gives
        ``"https://example.com/argil/webhook?token=..."``; an existing query is kept.
        """
        parts = urllib.parse.urlsplit(public_base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidRequestError("public_base_url", "must be an absolute http(s) URL")
        token = urllib.parse.urlencode({"token": self._secret})
        query = f"{parts.query}&{token}" if parts.query else token
        path = parts.path.rstrip("/") + self._path
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))

    def mount(self, app: web.Application) -> None:
        """Add the POST route to ``app`` and drain pending callbacks on its cleanup.

        Mind aiohttp's default access log, which records query strings, thus the token: run
        the app with ``access_log_class=WebhookReceiver.access_log_class`` or another format.
        """
        app.router.add_post(self._path, self._handle)
        app.on_cleanup.append(self._on_cleanup)

    @contextlib.asynccontextmanager
    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_base_url: str | None = None,
    ) -> AsyncIterator[str]:
        """Run a standalone server with only this receiver; yield the callback URL.

        Argil must be able to reach it: pass ``public_base_url`` (a tunnel or proxy address)
        unless you only feed it locally (the simulator, tests)::

            async with receiver.serve(port=8080) as url:
                video = await client.videos.render(video_id, callback_url=url)
                event = await receiver.wait_for_video(video_id, timeout=600)
        """
        app = web.Application()
        self.mount(app)
        runner = web.AppRunner(app, access_log_class=_PathOnlyAccessLogger, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            yield self.callback_url(public_base_url or _local_base_url(runner.addresses[0]))
        finally:
            await runner.cleanup()

    def on(self, handler: HandlerT) -> HandlerT:
        """Call ``handler(event)`` (sync or async) for each accepted delivery; also a decorator.

        Handlers run in tasks after the 200 is sent; exceptions are logged and counted in
        :attr:`handler_errors`. Sync handlers run on the event loop, so keep them quick::

            @receiver.on
            async def store(event: Event) -> None:
                await db.save(event.raw)
        """
        if not callable(handler):
            raise InvalidRequestError("handler", "must be callable")
        self._handlers.append(handler)
        return handler

    def events(self, *, max_queued: int = 1000) -> AsyncIterator[Event]:
        """Iterate over events accepted from now on, until :meth:`aclose`.

        ``async for event in receiver.events(): ...``. At most ``max_queued`` events wait for
        the consumer; beyond that the oldest are dropped (with a warning).
        """
        if max_queued <= 0:
            raise InvalidRequestError("max_queued", "must be positive")
        return _EventStream(self._streams, max_queued)

    async def wait_for_video(self, video_id: str, *, timeout: float | None = None) -> VideoEvent:
        """Return the success or failure event of ``video_id``, even if it already arrived.

        Raises :class:`~argil_async.errors.WaitTimeoutError` (a ``TimeoutError``) after
        ``timeout`` seconds; ``None`` waits forever. Cancelling the call is safe.
        """
        return cast("VideoEvent", await self._wait(("video", video_id), timeout))

    async def wait_for_avatar(self, avatar_id: str, *, timeout: float | None = None) -> AvatarEvent:
        """Return the training success or failure event of ``avatar_id``; see wait_for_video."""
        return cast("AvatarEvent", await self._wait(("avatar", avatar_id), timeout))

    async def aclose(self, timeout: float = 5.0) -> None:
        """End event streams and let running callbacks finish (cancelled after ``timeout``)."""
        for stream in list(self._streams):
            stream._close()
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.aclose()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if not self._token_matches(request.query.get("token")):
            return self._reject(request, "unauthorized", 401, "missing or invalid token")
        declared = request.content_length
        if declared is not None and declared > self._max_body_size:
            return self._reject(request, "too_large", 413, "body too large")
        body = await self._read_body(request)
        if body is None:
            return self._reject(request, "too_large", 413, "body too large")
        try:
            event = parse_event(body)
        except ResponseValidationError as exc:
            return self._reject(request, "invalid_body", 400, str(exc))
        self._received += 1
        self._dispatch(event)
        return web.Response(text="ok")

    def _token_matches(self, token: str | None) -> bool:
        if token is None:
            return False
        return hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self._secret_bytes)

    async def _read_body(self, request: web.Request) -> bytes | None:
        """Read the body, or return None as soon as it passes max_body_size (chunked bodies)."""
        chunks: list[bytes] = []
        size = 0
        while chunk := await request.content.readany():
            size += len(chunk)
            if size > self._max_body_size:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _reject(
        self, request: web.Request, reason: str, status: int, text: str
    ) -> web.StreamResponse:
        self._rejected[reason] = self._rejected.get(reason, 0) + 1
        # request.path has no query string: the token must never reach the logs.
        logger.warning(
            "rejected webhook delivery to %s from %s: %s (%d)",
            request.path,
            request.remote,
            reason,
            status,
        )
        response = web.Response(status=status, text=text)
        if status != 400:
            response.force_close()  # the body was not read; do not keep the connection
        return response

    def _dispatch(self, event: Event) -> None:
        key = _key_of(event)
        if key is not None:
            self._remember(key, event)
            for future in self._waiters.pop(key, ()):
                if not future.done():
                    future.set_result(event)
        for stream in list(self._streams):
            stream._put(event)
        for handler in self._handlers:
            task = asyncio.get_running_loop().create_task(self._call_handler(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _remember(self, key: _Key, event: Event) -> None:
        self._recent[key] = event
        self._recent.move_to_end(key)
        while len(self._recent) > self._max_buffered:
            self._recent.popitem(last=False)

    async def _call_handler(self, handler: Callable[[Event], object], event: Event) -> None:
        try:
            result = handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self._handler_errors += 1
            name = getattr(handler, "__qualname__", repr(handler))
            logger.exception("webhook handler %s failed on %s", name, event.event)

    async def _wait(self, key: _Key, timeout: float | None) -> Event:
        event = self._recent.get(key)
        if event is not None:
            return event
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(key, set()).add(future)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            message = f"no webhook event for {key[0]} {key[1]} within {timeout} s"
            raise WaitTimeoutError(message) from None
        finally:
            waiters = self._waiters.get(key)
            if waiters is not None:
                waiters.discard(future)
                if not waiters:
                    del self._waiters[key]


def _key_of(event: Event) -> _Key | None:
    if isinstance(event, (VideoGenerationSucceeded, VideoGenerationFailed)):
        return ("video", event.video_id)
    if isinstance(event, (AvatarTrainingSucceeded, AvatarTrainingFailed)):
        return ("avatar", event.avatar_id)
    return None


def _local_base_url(sockname: Any) -> str:
    host, port = sockname[0], sockname[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

"""The webhook receiver exported as ``argil_async.events.WebhookReceiver``.

[`WebhookReceiver.handle()`][argil_async.events.WebhookReceiver.handle] is the framework-neutral
core (authenticate, parse, dispatch); ``_web`` adapts it to ASGI (FastAPI, Starlette) and
aiohttp.web, and ``_fanout`` hands the accepted events to streams and waiters.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import urllib.parse
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from aiohttp.abc import AbstractAccessLogger

from argil_async.errors import (
    ResponseValidationError,
    WaitTimeoutError,
    WebhookError,
)

from .. import _validation as check
from . import _web as _receiver_web
from ._auth import SECRET_ENV, Credentials
from ._dedup import DedupStore, MemoryDedupStore, dedup_key
from ._fanout import EventStream, Key, key_of, resolve
from ._payloads import AvatarEvent, Event, VideoEvent, parse_event
from ._web import decode_header

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["WebhookReceiver"]

logger = logging.getLogger("argil_async.events")

HandlerT = TypeVar("HandlerT", bound=Callable[[Event], object])
Headers = Mapping[str, str] | Iterable[tuple[bytes | str, bytes | str]]


class WebhookReceiver:
    """Receive Argil webhook deliveries in any web framework and wait for results by id.

    Deliveries are authenticated by a secret token in the callback URL's query string (Argil
    does not sign callbacks), by a Standard Webhooks signature (endpoints registered through
    Argil's webhook-endpoints API, keyed with ``signing_secret``), or either when both are set.
    Every worker of an app must share them: they default to ``ARGIL_WEBHOOK_SECRET`` and
    ``ARGIL_WEBHOOK_SIGNING_SECRET``; with neither, a random token is made (one process only):

    ```python
    receiver = WebhookReceiver()                  # ARGIL_WEBHOOK_SECRET
    app.mount("/argil", receiver.asgi)            # FastAPI / Starlette: POST /argil/webhook
    receiver.mount(aiohttp_app)                   # or aiohttp.web
    url = receiver.callback_url("https://example.com")
    await client.videos.render(video.id, callback_url=url)
    event = await receiver.wait_for_video(video.id, timeout=900)
    ```

    [`handle()`][argil_async.events.WebhookReceiver.handle] is the core any framework can call.
    ``rejected`` counts refusals by reason: ``"unauthorized"`` (401), ``"too_large"`` (413),
    ``"invalid_body"`` and ``"incomplete"`` (400, a body cut short of its ``Content-Length``: never
    dispatched), ``"timeout"`` (408, a body slower than ``body_timeout``, 10 s); a repeated
    delivery is answered 200 but dispatched once (``duplicates`` counts them): deliveries are
    keyed by their ``webhook-id``, or without one by event name + video/avatar id + status,
    in ``dedup`` (this process's memory by default; a
    [`RedisDedupStore`][argil_async.events.RedisDedupStore] shares it between workers and restarts,
    and ``"unavailable"`` (503) counts deliveries refused while it was unreachable). Up to
    ``max_buffered`` recent video and avatar events are kept, so a wait that starts after its
    event arrived still returns it.
    """

    access_log_class: ClassVar[type[AbstractAccessLogger]] = _receiver_web.PathOnlyAccessLogger
    """An aiohttp access logger that omits query strings (aiohttp's default logs the token):
    ``web.run_app(app, access_log_class=WebhookReceiver.access_log_class)``."""

    def __init__(
        self,
        secret: str | None = None,
        *,
        signing_secret: str | None = None,
        path: str = "/argil/webhook",
        max_body_size: int = 256 * 1024,
        max_buffered: int = 10_000,
        max_seen_ids: int = 10_000,
        dedup: DedupStore | None = None,
        body_timeout: float = 10.0,
    ) -> None:
        if not isinstance(path, str) or not path.startswith("/"):
            raise check.fail("path", "must be a path starting with '/'", path)
        check.integer("max_body_size", max_body_size, low=1)
        check.integer("max_buffered", max_buffered, low=0)
        check.integer("max_seen_ids", max_seen_ids, low=0)
        self._body_timeout = check.number("body_timeout", body_timeout, positive=True)
        self._credentials = Credentials(secret, signing_secret)
        self._path = path
        self._max_body_size = max_body_size
        self._max_buffered = max_buffered
        self._recent: OrderedDict[Key, Event] = OrderedDict()
        if dedup is None:
            dedup = MemoryDedupStore(max_keys=max_seen_ids)
        elif not isinstance(dedup, DedupStore):
            raise check.fail("dedup", "must be a DedupStore (claim and aclose coroutines)", dedup)
        self._dedup = dedup
        self._waiters: dict[Key, set[asyncio.Future[Event]]] = {}
        self._handlers: list[Callable[[Event], object]] = []
        self._streams: weakref.WeakSet[EventStream] = weakref.WeakSet()
        self._tasks: set[asyncio.Task[None]] = set()
        self._received = 0
        self._duplicates = 0
        self._rejected: dict[str, int] = {}
        self._handler_errors = 0
        self._asgi: _receiver_web.AsgiApp | None = None

    def __repr__(self) -> str:
        return f"WebhookReceiver(path={self._path!r}, received={self._received})"

    @property
    def secret(self) -> str | None:
        """The token deliveries must carry (``?token=``), or None when only signatures count."""
        return self._credentials.token

    @property
    def path(self) -> str:
        """The route path that [`mount()`][argil_async.events.WebhookReceiver.mount] adds and
        [`callback_url()`][argil_async.events.WebhookReceiver.callback_url] ends with."""
        return self._path

    @property
    def max_body_size(self) -> int:
        """Bodies above this many bytes are refused (413)."""
        return self._max_body_size

    @property
    def body_timeout(self) -> float:
        """Seconds a body may take to arrive through the ASGI and aiohttp adapters (else 408)."""
        return self._body_timeout

    @property
    def dedup(self) -> DedupStore:
        """The store of dispatched deliveries' keys (in this process unless you passed one)."""
        return self._dedup

    @property
    def received(self) -> int:
        """Deliveries accepted and dispatched so far (duplicates not counted)."""
        return self._received

    @property
    def duplicates(self) -> int:
        """Deliveries answered 200 but not dispatched, their ``webhook-id`` already seen."""
        return self._duplicates

    @property
    def rejected(self) -> dict[str, int]:
        """Deliveries refused so far, by reason (a copy)."""
        return dict(self._rejected)

    @property
    def handler_errors(self) -> int:
        """Exceptions raised by callbacks registered with
        [`on()`][argil_async.events.WebhookReceiver.on] (logged, then ignored)."""
        return self._handler_errors

    @property
    def asgi(self) -> _receiver_web.AsgiApp:
        """A pure ASGI app answering POSTs with
        [`handle()`][argil_async.events.WebhookReceiver.handle] (any path; other methods 405).

        ``app.mount("/argil", receiver.asgi)`` in FastAPI or Starlette takes deliveries to
        ``/argil/webhook`` (the default [`path`][argil_async.events.WebhookReceiver.path]); it also
        runs alone under any ASGI server, closing the receiver on lifespan shutdown.
        """
        if self._asgi is None:
            self._asgi = _receiver_web.AsgiApp(self)
        return self._asgi

    def callback_url(self, public_base_url: str) -> str:
        """The URL to give Argil: ``public_base_url`` + path + ``?token=<secret>``.

        ``callback_url("https://example.com/")`` gives
        ``"https://example.com/argil/webhook?token=..."``; an existing query is kept. With
        no token (signatures only) no query is added.
        """
        rule = "must be an absolute http(s) URL"
        if not isinstance(public_base_url, str) or not _printable_utf8(public_base_url):
            raise check.fail("public_base_url", rule, public_base_url)
        try:
            parts = urllib.parse.urlsplit(public_base_url)
            parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        except ValueError:
            raise check.fail("public_base_url", rule, public_base_url) from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise check.fail("public_base_url", rule, public_base_url)
        secret = self._credentials.token
        token = urllib.parse.urlencode({"token": secret}) if secret else ""
        query = "&".join(part for part in (parts.query, token) if part)
        path = parts.path.rstrip("/") + self._path
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, query, ""))

    def handle(
        self,
        body: bytes | bytearray | memoryview | str,
        *,
        headers: Headers | None = None,
        query: Mapping[str, str] | str | bytes | None = None,
    ) -> Event:
        """Authenticate, parse and dispatch one delivery; return its event (then answer 200).

        Raises [`WebhookError`][argil_async.errors.WebhookError] whose ``status_code`` (401, 400,
        413) is the answer to send. ``headers`` and ``query`` are the request's: any mapping, or
        ASGI's raw ``(name, value)`` byte pairs and query string. Call it on the event loop that
        waits. A repeated delivery (same de-duplication key, see
        [`dedup`][argil_async.events.WebhookReceiver.dedup]) is returned but not dispatched to
        handlers or [`events()`][argil_async.events.WebhookReceiver.events] streams again (it still
        ends this process's waits for its video or avatar). With a shared store
        ([`RedisDedupStore`][argil_async.events.RedisDedupStore]) call
        [`ahandle()`][argil_async.events.WebhookReceiver.ahandle] instead. In any framework:

        ```python
        try:
            receiver.handle(await request.body(), headers=request.headers,
                            query=request.query_params)
        except WebhookError as exc:
            return Response(status_code=exc.status_code)
        return Response("ok")
        ```
        """
        if not isinstance(self._dedup, MemoryDedupStore):
            rule = "must be in memory for handle(): with another store, call `await .ahandle(...)`"
            raise check.fail("dedup", rule, self._dedup)
        event, key = self._authentic(body, headers, query)
        self._dispatch_once(event, self._dedup.claim_now(key))
        return event

    async def ahandle(
        self,
        body: bytes | bytearray | memoryview | str,
        *,
        headers: Headers | None = None,
        query: Mapping[str, str] | str | bytes | None = None,
    ) -> Event:
        """[`handle()`][argil_async.events.WebhookReceiver.handle] for any de-duplication store (a
        shared one is asynchronous).

        The ASGI and aiohttp adapters use it. Besides
        [`handle()`][argil_async.events.WebhookReceiver.handle]'s refusals it raises a 503
        [`WebhookError`][argil_async.errors.WebhookError] (``reason="unavailable"``) when the store
        cannot be reached: nothing is dispatched and the sender retries later:

        ```python
        try:
            await receiver.ahandle(await request.body(), headers=request.headers,
                                   query=request.query_params)
        except WebhookError as exc:
            return Response(status_code=exc.status_code)
        ```
        """
        event, key = self._authentic(body, headers, query)
        try:
            first = await self._dedup.claim(key)
        except WebhookError as exc:
            self._refused(exc)
            raise
        except Exception as exc:  # a store of the user's own: the sender should retry
            logger.exception("webhook de-duplication store %r failed", self._dedup)
            error = WebhookError(
                "de-duplication store failed; retry later", status_code=503, reason="unavailable"
            )
            self._refused(error)
            raise error from exc
        self._dispatch_once(event, first)
        return event

    def _authentic(
        self, body: object, headers: Headers | None, query: Mapping[str, str] | str | bytes | None
    ) -> tuple[Event, str]:
        try:
            return self._accept(body, headers or {}, query)
        except WebhookError as exc:
            self._refused(exc)
            raise

    def _dispatch_once(self, event: Event, first: bool) -> None:
        if not first:
            # handlers and streams ran where the first copy landed (maybe another worker);
            # a wait here for this video is no side effect: let it end now, not by polling
            self._duplicates += 1
            self._settle(event)
            return
        self._received += 1
        self._dispatch(event)

    def too_large(self) -> WebhookError:
        """The 413 refusal (counted) for adapters that stop reading a body past the limit."""
        error = WebhookError("body too large", status_code=413, reason="too_large")
        self._refused(error)
        return error

    def timed_out(self, seconds: float) -> WebhookError:
        """The 408 refusal (counted) of a body not sent within ``seconds``."""
        message = f"body not received within {seconds:g} s"
        error = WebhookError(message, status_code=408, reason="timeout")
        self._refused(error)
        return error

    def incomplete(self, detail: str) -> WebhookError:
        """The 400 refusal (counted) of a body cut short of its length: never dispatched."""
        error = WebhookError(f"incomplete body: {detail}", status_code=400, reason="incomplete")
        self._refused(error)
        return error

    def mount(self, app: Any) -> None:
        """Add the POST route at [`path`][argil_async.events.WebhookReceiver.path] to an aiohttp,
        FastAPI or Starlette app.

        An aiohttp ``web.Application`` also drains pending callbacks on cleanup; mind its
        default access log, which records query strings, thus the token: run it with
        ``access_log_class=WebhookReceiver.access_log_class``. A FastAPI/Starlette app or
        router gets ``add_route(path, self.asgi, methods=["POST"])``: close the receiver in
        your lifespan (``await receiver.aclose()``) and install
        [`RedactTokenFilter`][argil_async.events.RedactTokenFilter].
        """
        _receiver_web.mount(self, app)

    @contextlib.asynccontextmanager
    async def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        public_base_url: str | None = None,
        header_timeout: float = 5.0,
        body_timeout: float | None = None,
        max_connections: int = 100,
    ) -> AsyncIterator[str]:
        """Run a standalone aiohttp server with only this receiver; yield the callback URL.

        Argil must be able to reach it: pass ``public_base_url`` (a tunnel or proxy address)
        unless you only feed it locally (the simulator, tests):

        ```python
        async with receiver.serve(port=8080) as url:
            video = await client.videos.render(video_id, callback_url=url)
            event = await receiver.wait_for_video(video_id, timeout=600)
        ```

        Slow clients are bounded: a connection that has not sent its request's headers
        ``header_timeout`` seconds after opening (or after its last answer) is closed, a body
        not received within ``body_timeout`` seconds (default: the receiver's, 10 s) is
        answered 408 (``rejected["timeout"]``),
        and past ``max_connections`` open connections a new one closes the oldest connection
        still sending its request, so stalled clients cannot lock out a delivery.
        """
        check.number("header_timeout", header_timeout, positive=True)
        if body_timeout is None:
            body_timeout = self._body_timeout
        check.number("body_timeout", body_timeout, positive=True)
        check.integer("max_connections", max_connections, low=1)
        guard = _receiver_web.ConnectionGuard(header_timeout, body_timeout, max_connections)
        async with _receiver_web.serve(self, host, port, guard) as base_url:
            yield self.callback_url(public_base_url or base_url)

    def on(self, handler: HandlerT) -> HandlerT:
        """Call ``handler(event)`` (sync or async) for each accepted delivery; also a decorator.

        Handlers run in tasks after the 200 is sent; exceptions are logged and counted in
        [`handler_errors`][argil_async.events.WebhookReceiver.handler_errors]. Sync handlers run on
        the event loop, so keep them quick:

        ```python
        @receiver.on
        async def store(event: Event) -> None:
            await db.save(event.raw)
        ```
        """
        check.function("handler", handler)
        self._handlers.append(handler)
        return handler

    def events(self, *, max_queued: int = 1000) -> AsyncIterator[Event]:
        """Iterate over events accepted from now on, until
        [`aclose()`][argil_async.events.WebhookReceiver.aclose].

        ``async for event in receiver.events(): ...``. At most ``max_queued`` events wait for
        the consumer; beyond that the oldest are dropped (with a warning).
        """
        check.integer("max_queued", max_queued, low=1)
        return EventStream(self._streams, max_queued)

    async def wait_for_video(self, video_id: str, *, timeout: float | None = None) -> VideoEvent:
        """Return the success or failure event of ``video_id``, even if it already arrived.

        Raises [`WaitTimeoutError`][argil_async.errors.WaitTimeoutError] (a ``TimeoutError``) after
        ``timeout`` seconds; ``None`` waits forever. Cancelling the call is safe. With several
        workers, the delivery may land on another one: ``client.videos.wait_until_done(id,
        receiver=receiver)`` also polls, and returns whichever answers first.
        """
        return cast("VideoEvent", await self._wait(("video", video_id), timeout))

    async def wait_for_avatar(self, avatar_id: str, *, timeout: float | None = None) -> AvatarEvent:
        """Return the training success or failure event of ``avatar_id``; see wait_for_video."""
        return cast("AvatarEvent", await self._wait(("avatar", avatar_id), timeout))

    async def aclose(self, timeout: float = 5.0) -> None:
        """End event streams, let running callbacks finish (cancelled after ``timeout``), then
        close the de-duplication store."""
        for stream in list(self._streams):
            stream._close()
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._dedup.aclose()

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.aclose()

    def _accept(
        self, body: object, headers: Headers, query: Mapping[str, str] | str | bytes | None
    ) -> tuple[Event, str]:
        """(the event, its de-duplication key) of an authentic delivery; WebhookError otherwise."""
        if not isinstance(body, (bytes, bytearray, memoryview, str)):
            raise WebhookError("body must be bytes", status_code=400, reason="invalid_body")
        raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else bytes(body)
        if len(raw) > self._max_body_size:
            raise WebhookError("body too large", status_code=413, reason="too_large")
        fields = _header_fields(headers)
        self._credentials.check(raw, fields, query)
        try:
            event = parse_event(raw)
        except ResponseValidationError as exc:
            raise WebhookError(str(exc), status_code=400, reason="invalid_body") from None
        return event, dedup_key(event, fields.get("webhook-id"), raw)

    def _refused(self, error: WebhookError) -> None:
        self._rejected[error.reason] = self._rejected.get(error.reason, 0) + 1
        hint = ""
        if error.reason == "unauthorized" and self._credentials.generated:
            hint = (
                f"; this receiver made its own random token: with several workers, set {SECRET_ENV}"
            )
        logger.warning(
            "rejected webhook delivery: %s (%d)%s", error.reason, error.status_code, hint
        )

    def _dispatch(self, event: Event) -> None:
        self._settle(event)
        for stream in list(self._streams):
            stream._put(event)
        for handler in self._handlers:
            task = asyncio.get_running_loop().create_task(self._call_handler(handler, event))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _settle(self, event: Event) -> None:
        """Complete this process's waits for the event's video or avatar (and remember it)."""
        key = key_of(event)
        if key is not None:
            self._remember(key, event)
            for future in self._waiters.pop(key, ()):
                resolve(future, event)

    def _remember(self, key: Key, event: Event) -> None:
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

    async def _wait(self, key: Key, timeout: float | None) -> Event:
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


def _header_fields(headers: Headers) -> dict[str, str]:
    """Lower-case names to text values, from a mapping or from (name, value) pairs."""
    raw = getattr(headers, "raw", None)  # Starlette's Headers decode values as latin-1
    if isinstance(raw, list):
        headers = raw  # the bytes as received, decoded as UTF-8 below
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    try:
        return {_text(name).lower(): _text(value) for name, value in pairs}
    except (TypeError, ValueError):
        raise check.fail("headers", "must be a mapping or (name, value) pairs", headers) from None


def _printable_utf8(text: str) -> bool:
    """No control characters and no lone surrogates (which no request could carry)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return text.isprintable()


def _text(value: object) -> str:
    """A header name or value as text: raw bytes are UTF-8 (as signed), else latin-1."""
    if isinstance(value, (bytes, bytearray)):
        return decode_header(bytes(value))
    return str(value)

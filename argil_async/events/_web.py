"""WebhookReceiver on web servers: a pure ASGI app (FastAPI, Starlette) and aiohttp.web.

Both read the body up to the receiver's limit, call
[`WebhookReceiver.handle()`][argil_async.events.WebhookReceiver.handle] and answer its verdict.
Nothing here logs a query string, so the token stays out of the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from argil_async.errors import WebhookError

from .. import _validation as check

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

__all__ = ["AsgiApp", "ConnectionGuard", "PathOnlyAccessLogger", "decode_header", "mount", "serve"]

logger = logging.getLogger("argil_async.events")

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class AsgiApp:
    """The receiver as an ASGI 3 application; no ASGI framework needed.

    It is an object, not a function, so Starlette's ``add_route`` treats it as an app too.
    """

    def __init__(self, receiver: WebhookReceiver) -> None:
        self._receiver = receiver

    def __repr__(self) -> str:
        return f"<ASGI app of {self._receiver!r}>"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            answer = await self._answer(scope, receive)
            if answer is not None:  # None: the client left mid-body; nobody to answer
                await _respond(send, *answer)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, str] | None:
        if scope.get("method") != "POST":
            return 405, "method not allowed"
        headers = {
            decode_header(name).lower(): decode_header(value)
            for name, value in scope.get("headers", ())
        }
        try:
            body = await _read_asgi_body(receive, headers, self._receiver)
            if body is None:
                return None
            query = scope.get("query_string", b"").decode("latin-1")
            await self._receiver.ahandle(body, headers=headers, query=query)
        except WebhookError as exc:
            return exc.status_code, str(exc)
        return 200, "ok"

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self._receiver.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def decode_header(raw: bytes) -> str:
    """An ASGI raw header as text: UTF-8, as senders sign ``webhook-id``; latin-1 if not UTF-8."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1")


async def _read_asgi_body(
    receive: Receive, headers: dict[str, str], receiver: WebhookReceiver
) -> bytes | None:
    """The whole request body; None if the client disconnected before sending all of it.

    Raises the receiver's 413 once the body passes its limit (declared or streamed), a 400
    when the body ends short of its ``Content-Length`` (a cut body is never dispatched), and a
    408 when it has not all arrived within the receiver's ``body_timeout``.
    """
    limit = receiver.max_body_size
    loop = asyncio.get_running_loop()
    deadline = loop.time() + receiver.body_timeout
    declared = _content_length(headers.get("content-length"))
    if declared is not None and declared > limit:
        raise receiver.too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            message = await asyncio.wait_for(receive(), max(0.0, deadline - loop.time()))
        except asyncio.TimeoutError:
            raise receiver.timed_out(receiver.body_timeout) from None
        if message["type"] == "http.disconnect":
            receiver.incomplete("the client disconnected before the body ended")
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise receiver.too_large()
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    if declared is not None and size != declared:
        raise receiver.incomplete(f"body of {size} bytes, Content-Length {declared}")
    return b"".join(chunks)


def _content_length(value: str | None) -> int | None:
    return int(value) if value is not None and value.isascii() and value.isdigit() else None


async def _respond(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    headers.append((b"content-length", str(len(body)).encode()))
    if status == 405:
        headers.append((b"allow", b"POST"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class PathOnlyAccessLogger(AbstractAccessLogger):
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


def mount(receiver: WebhookReceiver, app: Any) -> None:
    """Add the POST route to an aiohttp app, or to anything with Starlette's ``add_route``."""
    if isinstance(app, web.Application):
        app.router.add_post(receiver.path, _aiohttp_handler(receiver))
        app.on_cleanup.append(receiver._on_cleanup)
    elif callable(getattr(app, "add_route", None)):
        app.add_route(receiver.path, receiver.asgi, methods=["POST"])
    else:
        rule = (
            "must be an aiohttp web.Application or a Starlette/FastAPI app or router "
            '(or mount receiver.asgi: app.mount("/argil", ...))'
        )
        raise check.fail("app", rule, app)


def _aiohttp_handler(
    receiver: WebhookReceiver, guard: ConnectionGuard | None = None
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        if guard is not None:
            guard.reading_body(request.transport)
        timeout = receiver.body_timeout if guard is None else guard.body_timeout
        try:
            try:
                body = await asyncio.wait_for(_read_aiohttp_body(request, receiver), timeout)
            except asyncio.TimeoutError:
                raise receiver.timed_out(timeout) from None
            if guard is not None:
                guard.answering(request.transport)
            await receiver.ahandle(body, headers=request.headers, query=request.query)
        except WebhookError as exc:
            response = web.Response(status=exc.status_code, text=str(exc))
            if exc.status_code in (408, 413):
                response.force_close()  # the body was not read; do not keep the connection
            return response
        finally:
            if guard is not None:
                guard.idle(request.transport)
        return web.Response(text="ok")

    return handle


async def _read_aiohttp_body(request: web.Request, receiver: WebhookReceiver) -> bytes:
    """Read the body; the 413 as soon as it passes the limit (chunked bodies too)."""
    limit = receiver.max_body_size
    declared = request.content_length
    if declared is not None and declared > limit:
        raise receiver.too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = await request.content.readany()
        except (ConnectionError, aiohttp.ClientPayloadError, HttpProcessingError) as exc:
            raise receiver.incomplete(f"the client disconnected ({type(exc).__name__})") from None
        if not chunk:
            break
        size += len(chunk)
        if size > limit:
            raise receiver.too_large()
        chunks.append(chunk)
    if declared is not None and size != declared:  # aiohttp raises first; kept as a guard
        raise receiver.incomplete(f"body of {size} bytes, Content-Length {declared}")
    return b"".join(chunks)


class ConnectionGuard:
    """Bounds what slow or stalled clients can hold on a `serve()` server.

    A connection must send its request's headers within ``header_timeout`` seconds of opening
    (or of its previous answer) and its body within ``body_timeout`` seconds, else it is
    closed (a late body gets 408). At most ``max_connections`` are open: a new one past the
    cap closes the oldest connection still sending its request, so stalled clients cannot lock
    out a delivery (with none to close, the new one is dropped).
    """

    def __init__(self, header_timeout: float, body_timeout: float, max_connections: int) -> None:
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self.max_connections = max_connections
        self.closed = 0  # connections closed for being slow or to make room
        # open connections, oldest first; value: the header deadline (None: not waiting)
        self._open: dict[asyncio.BaseTransport, asyncio.TimerHandle | None] = {}
        self._answering: set[asyncio.BaseTransport] = set()

    @property
    def open(self) -> int:
        """Connections open now."""
        return len(self._open)

    def protocol(self, server: web.Server) -> asyncio.Protocol:
        """aiohttp's protocol for one new connection, watched by this guard."""
        return _GuardedProtocol(self, server())

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        """Take a new connection (making room if needed); False: drop it."""
        if len(self._open) >= self.max_connections:
            oldest = next((t for t in self._open if t not in self._answering), None)
            if oldest is None:
                logger.warning("webhook server: %d connections busy; dropped a new one", self.open)
                return False
            self._close(oldest, "to make room for a new connection")
        self._open[transport] = None
        self.idle(transport)
        return True

    def idle(self, transport: asyncio.BaseTransport | None) -> None:
        """The connection waits for a request's headers: start the header deadline."""
        self._answering.discard(transport)
        if transport in self._open:
            self._disarm(transport)
            loop = asyncio.get_running_loop()
            handle = loop.call_later(self.header_timeout, self._close, transport, "headers late")
            self._open[transport] = handle

    def reading_body(self, transport: asyncio.BaseTransport | None) -> None:
        """The headers are in; the body is read under ``body_timeout`` by the handler."""
        if transport in self._open:
            self._disarm(transport)

    def answering(self, transport: asyncio.BaseTransport | None) -> None:
        """The request is read; the connection is not closed to make room until answered."""
        if transport in self._open:
            self._answering.add(transport)

    def forget(self, transport: asyncio.BaseTransport) -> None:
        if transport in self._open:
            self._disarm(transport)
            del self._open[transport]
        self._answering.discard(transport)

    def _disarm(self, transport: asyncio.BaseTransport) -> None:
        handle = self._open.get(transport)
        if handle is not None:
            handle.cancel()
            self._open[transport] = None

    def _close(self, transport: asyncio.BaseTransport, why: str) -> None:
        self.forget(transport)
        self.closed += 1
        logger.debug("webhook server: closed a slow connection (%s)", why)
        if isinstance(transport, asyncio.Transport):
            transport.abort()  # frees the socket now; aiohttp sees the connection lost
        else:  # pragma: no cover - TCP servers give Transports
            transport.close()


class _GuardedProtocol(asyncio.Protocol):
    """aiohttp's request handler, with the guard told when its connection opens and closes."""

    def __init__(self, guard: ConnectionGuard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._admitted = False
        self._transport: asyncio.BaseTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self._admitted = self._guard.admit(transport)
        if not self._admitted:
            cast("asyncio.Transport", transport).abort()
            return
        self._inner.connection_made(transport)

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def connection_lost(self, exc: Exception | None) -> None:
        if self._admitted:
            self._admitted = False
            self._guard.forget(cast("asyncio.BaseTransport", self._transport))
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _GuardedSite(web.BaseSite):
    """A TCP site whose connections go through a `ConnectionGuard`."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, guard: ConnectionGuard):
        super().__init__(runner)
        self._host = host
        self._port = port
        self._guard = guard

    @property
    def name(self) -> str:
        return _local_base_url((self._host, self._port))

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert isinstance(server, web.Server)
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: self._guard.protocol(server), self._host, self._port, backlog=self._backlog
        )


@contextlib.asynccontextmanager
async def serve(
    receiver: WebhookReceiver, host: str, port: int, guard: ConnectionGuard
) -> AsyncIterator[str]:
    """Serve only ``receiver`` on ``host:port``, slow clients bounded by ``guard``."""
    app = web.Application()
    app.router.add_post(receiver.path, _aiohttp_handler(receiver, guard))
    app.on_cleanup.append(receiver._on_cleanup)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await _GuardedSite(runner, host, port, guard).start()
        yield _local_base_url(runner.addresses[0])
    finally:
        await runner.cleanup()


def _local_base_url(sockname: Any) -> str:
    host, port = sockname[0], sockname[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

"""WebhookReceiver on web servers: a pure ASGI app (FastAPI, Starlette) and aiohttp.web.

Both read the body up to the receiver's limit, call :meth:`WebhookReceiver.handle` and answer
its verdict. Nothing here logs a query string, so the token stays out of the logs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import HttpProcessingError

from argil_async.errors import InvalidRequestError, WebhookError

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

__all__ = ["AsgiApp", "PathOnlyAccessLogger", "decode_header", "mount", "serve"]

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
            self._receiver.handle(body, headers=headers, query=query)
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

    Raises the receiver's 413 once the body passes its limit (declared or streamed), and a 400
    when the body ends short of its ``Content-Length``: a cut body is never dispatched.
    """
    limit = receiver.max_body_size
    declared = _content_length(headers.get("content-length"))
    if declared is not None and declared > limit:
        raise receiver.too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
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
        raise InvalidRequestError(
            "app",
            f"cannot mount on {type(app).__name__}: pass an aiohttp web.Application or a "
            'Starlette/FastAPI app or router, or mount receiver.asgi: app.mount("/argil", ...)',
        )


def _aiohttp_handler(
    receiver: WebhookReceiver,
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            body = await _read_aiohttp_body(request, receiver)
            receiver.handle(body, headers=request.headers, query=request.query)
        except WebhookError as exc:
            response = web.Response(status=exc.status_code, text=str(exc))
            if exc.status_code == 413:
                response.force_close()  # the body was not read; do not keep the connection
            return response
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


@contextlib.asynccontextmanager
async def serve(receiver: WebhookReceiver, host: str, port: int) -> AsyncIterator[str]:
    """Serve only ``receiver`` on ``host:port``; yield the server's base URL."""
    app = web.Application()
    mount(receiver, app)
    runner = web.AppRunner(app, access_log_class=PathOnlyAccessLogger, shutdown_timeout=5.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        yield _local_base_url(runner.addresses[0])
    finally:
        await runner.cleanup()


def _local_base_url(sockname: Any) -> str:
    host, port = sockname[0], sockname[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

"""WebhookReceiver on web servers: a pure ASGI app (FastAPI, Starlette) and aiohttp.web.

Both read the body up to the receiver's limit, call :meth:`WebhookReceiver.handle` and answer
its verdict. Nothing here logs a query string, so the token stays out of the logs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from argil_async.errors import InvalidRequestError, WebhookError

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver

__all__ = ["AsgiApp", "PathOnlyAccessLogger", "mount", "serve"]

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
            status, text = await self._answer(scope, receive)
            await _respond(send, status, text)
        elif scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})

    async def _answer(self, scope: Scope, receive: Receive) -> tuple[int, str]:
        if scope.get("method") != "POST":
            return 405, "method not allowed"
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", ())
        }
        body = await _read_asgi_body(receive, headers, self._receiver.max_body_size)
        try:
            if body is None:
                raise self._receiver.too_large()
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


async def _read_asgi_body(receive: Receive, headers: dict[str, str], limit: int) -> bytes | None:
    """The request body, or None once it passes ``limit`` (declared or streamed)."""
    declared = headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


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
            body = await _read_aiohttp_body(request, receiver.max_body_size)
            if body is None:
                raise receiver.too_large()
            receiver.handle(body, headers=request.headers, query=request.query)
        except WebhookError as exc:
            response = web.Response(status=exc.status_code, text=str(exc))
            if exc.status_code == 413:
                response.force_close()  # the body was not read; do not keep the connection
            return response
        return web.Response(text="ok")

    return handle


async def _read_aiohttp_body(request: web.Request, limit: int) -> bytes | None:
    """Read the body, or return None as soon as it passes ``limit`` (chunked bodies too)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
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

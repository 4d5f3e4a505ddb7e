"""The aiohttp transport: the only SDK module that imports aiohttp.

It owns the HTTP session (opened lazily on the running loop, replaced on a new loop, closed
when its loop ends), sends API requests and streams downloads, and maps aiohttp's failures to
APIConnectionError / APITimeoutError. The seam's types live in ``_seam.py``, body caps in
``_bodies.py``, status errors in ``_status.py``:

```python
transport = AiohttpTransport(base_url, {"x-api-key": key}, Timeout())
response = await transport.send(Request("GET", "/videos/v1"))
```
"""

from __future__ import annotations

import asyncio
import inspect
import urllib.request
import weakref
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Iterable,
    Mapping,
)
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import hdrs
from multidict import CIMultiDict, istr

from . import _validation as check
from . import errors
from ._bodies import DEFAULT_MAX_RESPONSE_SIZE, ERROR_BODY_LIMIT, read_capped
from ._seam import ConnectorArg, Request, Response, Timeout, TraceConfigs
from ._version import __version__

__all__ = ["AiohttpTransport", "ConnectorArg", "TraceConfigs", "checked_http_settings"]

USER_AGENT = f"argil-async/{__version__} (python; aiohttp/{aiohttp.__version__})"
# aiohttp 3.10+ tells a connect timeout apart; 3.9 reports it as a ServerTimeoutError.
_CONNECT_TIMEOUT: Any = getattr(aiohttp, "ConnectionTimeoutError", ())


class AiohttpTransport:
    """An aiohttp-backed transport; the session is created lazily on the loop that first uses it.

    ``trust_env`` (default) honours ``HTTPS_PROXY``/``HTTP_PROXY``/``NO_PROXY``; ``proxy``
    names one explicitly. The environment is read when a session opens, for the base URL,
    rather than by aiohttp on every request (which also re-reads ``~/.netrc`` each time and
    doubled the client's CPU per request); put proxy credentials in the proxy URL. A session
    whose event loop has ended is replaced on the next loop (``asyncio.run`` twice), and a
    session left open is closed when its loop shuts down.
    """

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],  # sent with API requests only, never with downloads
        timeout: Timeout,
        *,
        connection_limit: int = 100,
        proxy: str | None = None,
        trust_env: bool = True,
        trace_configs: TraceConfigs = (),
        connector: ConnectorArg | None = None,
        max_response_size: int = DEFAULT_MAX_RESPONSE_SIZE,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        # Only API requests carry these (the key): a download from a CDN must never see it.
        # Built once, with and without a JSON body, rather than merged on every request.
        # No compression is asked for: identity stated once here rather than aiohttp's
        # skip_auto_headers, which costs a header-set rebuild on every request.
        self._api_headers = {**headers, "Accept-Encoding": "identity"}
        self._json_headers = {**self._api_headers, "Content-Type": "application/json"}
        # What aiohttp is handed: the same as case-insensitive multidicts with ``istr`` keys,
        # which it takes as they are (a plain dict is converted, and each of its keys
        # case-folded again and again, on every request).
        self._api_sent, self._json_sent = _ci(self._api_headers), _ci(self._json_headers)
        self._timeout = client_timeout(timeout)
        self._connection_limit = connection_limit
        self._proxy, self._trust_env = _checked_proxy(proxy), check.boolean("trust_env", trust_env)
        self._api_proxy = proxy  # for API requests: ``proxy``, else the environment's
        self._trace_configs = _checked_trace_configs(trace_configs)
        self._connector = _checked_connector(connector)
        self._max_response_size = max_response_size
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_watch: AsyncGenerator[None, None] | None = None

    async def _get_session(self) -> aiohttp.ClientSession:
        session = self._session
        if session is None or session.closed or self._loop is not asyncio.get_running_loop():
            session = await self._open_session()
        return session

    async def _open_session(self) -> aiohttp.ClientSession:
        """A session for the running loop (the one in use, unless its loop has ended)."""
        session = self._session
        if session is not None and self._loop is not asyncio.get_running_loop():
            if not session.closed and not _ended(self._loop):
                raise errors.ArgilError(
                    "this client's HTTP session belongs to another event loop: use one client "
                    "per event loop, or `await client.aclose()` before using it on a new one"
                )
            if not session.closed:
                session.detach()  # its loop has ended: nothing is left to close it on
            session = None
        if session is None or session.closed:
            self._loop = asyncio.get_running_loop()
            self._api_proxy = self._proxy_for(self._base_url)
            session = self._session = self._new_session()
            self._loop_watch = _close_at_loop_end(weakref.ref(self), session)
            await self._loop_watch.__anext__()
        return session

    def _new_session(self) -> aiohttp.ClientSession:
        connector = self._connector
        owned = not isinstance(connector, aiohttp.BaseConnector)  # a user's instance stays theirs
        if connector is None:
            connector = aiohttp.TCPConnector(limit=self._connection_limit)
        elif not isinstance(connector, aiohttp.BaseConnector):
            connector = connector()
            if not isinstance(connector, aiohttp.BaseConnector):
                raise check.fail("connector", "must return an aiohttp connector", connector)
        session = aiohttp.ClientSession(
            headers={"User-Agent": USER_AGENT},
            timeout=self._timeout,
            connector=connector,
            connector_owner=owned,
            response_class=aiohttp.ClientResponse if _RESEND_SWITCH else _SingleAttemptResponse,
            trace_configs=self._trace_configs or None,
        )
        if _RESEND_SWITCH:  # aiohttp resends nothing on its own (its test client's switch)
            session._retry_connection = False
        return session

    def _proxy_for(self, url: str) -> str | None:
        """The explicit proxy, else the one the environment gives for ``url`` (or None)."""
        if self._proxy is not None or not self._trust_env:
            return self._proxy
        return env_proxy(url)

    async def send(self, request: Request) -> Response:
        """Send ``request``; map aiohttp's failures to APIConnectionError / APITimeoutError."""
        session = self._session
        if (
            session is None
            or self._loop is not asyncio.get_running_loop()
            # Only a connector of the caller's can close under a session of ours: our own
            # closes with the session, which aclose() and the loop's end drop beforehand.
            or (self._connector is not None and session.closed)
        ):
            session = await self._open_session()
        headers: Mapping[str, str]
        if request.headers:
            headers = self._api_headers if request.body is None else self._json_headers
            headers = {**headers, **request.headers}
        else:
            headers = self._api_sent if request.body is None else self._json_sent
        timeout = self._timeout if request.timeout is None else client_timeout(request.timeout)
        # yarl's fast path is a dict (a list costs it ABC checks); a repeated key
        # (type=IMAGE&type=VIDEO) keeps the list of pairs.
        query: Mapping[str, str] | list[tuple[str, str]] | None = None
        if request.params:
            query = dict(request.params)
            if len(query) != len(request.params):
                query = list(request.params)
        try:
            # session.request()'s context manager, unrolled: the same coroutine awaited, and
            # the response's own exit (release, then wait for its writer) in the finally
            # clause, without the manager's object, its two coroutines and the response's
            # two on every request. Its wait_for_close() waits for a request body still being
            # written (release() cancelled it), then releases again: with no writer left
            # (nearly always), that second release does nothing, and is not called. And a
            # body read to its end has closed the response and released its connection
            # already (aiohttp's end-of-payload callback): release() would only mark the
            # spent stream, which nothing reads again, as closed.
            send = session._request if _UNROLLED else session.request
            resp = await send(
                request.method,
                self._base_url + request.path,
                params=query,
                data=request.body,
                headers=headers,
                allow_redirects=False,  # a redirect elsewhere would carry the key there
                proxy=self._api_proxy,
                timeout=timeout,
                auto_decompress=False,  # inflated by read_capped, within max_response_size
            )
            try:
                headers = resp.headers
                limit, declared = self._max_response_size, headers.get(hdrs.CONTENT_LENGTH)
                if (  # read_capped's usual response, checked here without its call
                    resp.status < 400
                    and declared is not None  # (resp.content_length, without its call)
                    and int(declared) <= limit
                    and hdrs.CONTENT_ENCODING not in headers
                    and hdrs.TRANSFER_ENCODING not in headers
                ):
                    body = await resp.read()
                else:
                    body = await read_capped(resp, limit)
                return Response(resp.status, headers, body)
            finally:
                if not _UNROLLED or resp._writer is not None:
                    resp.release()
                    await resp.wait_for_close()
                elif not resp.closed:
                    resp.release()
        except aiohttp.ClientError as exc:
            raise _connection_error(exc) from exc
        except asyncio.TimeoutError as exc:
            raise errors.APITimeoutError("request timed out while waiting for a response") from exc

    @asynccontextmanager
    async def stream(self, url: str) -> AsyncIterator[tuple[Response, AsyncIterator[bytes]]]:
        """GET an absolute URL (a file download) and yield its headers and a chunk iterator."""
        session = await self._get_session()
        try:
            async with session.get(
                url, proxy=self._proxy_for(url), skip_auto_headers=_NO_ACCEPT_ENCODING
            ) as resp:
                head = Response(resp.status, resp.headers, b"")
                if resp.status >= 400:
                    body = await read_capped(resp, ERROR_BODY_LIMIT, inflate=False)
                    head = Response(resp.status, resp.headers, body)
                yield head, _chunks(resp)
        except aiohttp.ClientError as exc:
            raise _connection_error(exc) from exc
        except asyncio.TimeoutError as exc:
            raise errors.APITimeoutError("download timed out") from exc

    async def aclose(self) -> None:
        """Close the session (if one was opened); safe to call twice."""
        session, self._session = self._session, None
        watch, self._loop_watch = self._loop_watch, None
        if session is not None and not session.closed:
            await session.close()
        if watch is not None and self._loop is asyncio.get_running_loop():
            await watch.aclose()


_NO_ACCEPT_ENCODING = ("Accept-Encoding",)  # downloads ask for no coding either


def _ci(headers: Mapping[str, str]) -> CIMultiDict[str]:
    """``headers`` as a case-insensitive multidict whose keys are already case-folded."""
    return CIMultiDict((istr(key), value) for key, value in headers.items())


def checked_http_settings(
    proxy: object, trust_env: object, trace_configs: object, connector: object
) -> tuple[str | None, bool, list[aiohttp.TraceConfig], ConnectorArg | None]:
    """The constructor's HTTP settings checked (``ClientConfig.resolve`` checks them early)."""
    return (
        _checked_proxy(proxy),
        check.boolean("trust_env", trust_env),
        _checked_trace_configs(trace_configs),
        _checked_connector(connector),
    )


def _checked_proxy(proxy: object) -> str | None:
    """None, or an http(s) proxy URL (the value is not shown: it may hold credentials)."""
    if proxy is None:
        return None
    try:
        return check.url("proxy", proxy)
    except errors.InvalidRequestError:
        raise check.fail("proxy", "must be an http:// or https:// proxy URL") from None


def _checked_trace_configs(configs: object) -> list[aiohttp.TraceConfig]:
    """A list of aiohttp ``TraceConfig`` objects (anything else fails at construction)."""
    if isinstance(configs, (str, bytes, Mapping)) or not isinstance(configs, Iterable):
        raise check.fail("trace_configs", "must be a list of aiohttp.TraceConfig", configs)
    items = list(configs)
    for i, item in enumerate(items):
        if not isinstance(item, aiohttp.TraceConfig):
            raise check.fail(f"trace_configs[{i}]", "must be an aiohttp.TraceConfig", item)
    return items


def _checked_connector(connector: object) -> ConnectorArg | None:
    """None, an aiohttp connector, or a function making one (checked when it is called)."""
    if connector is None or isinstance(connector, aiohttp.BaseConnector) or callable(connector):
        return connector
    raise check.fail(
        "connector", "must be an aiohttp connector or a function making one", connector
    )


def env_proxy(url: str) -> str | None:
    """The proxy ``HTTPS_PROXY``/``HTTP_PROXY`` name for ``url``, unless ``NO_PROXY`` covers it."""
    proxies = urllib.request.getproxies_environment()
    parts = urlsplit(url)
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]
    if parts.hostname is None or bypass(parts.hostname, proxies):
        return None
    return proxies.get(parts.scheme)


def client_timeout(timeout: Timeout) -> aiohttp.ClientTimeout:
    """aiohttp's form of a [`Timeout`][argil_async.Timeout] (``total`` bounds one attempt here)."""
    return aiohttp.ClientTimeout(
        total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read
    )


def _ended(loop: asyncio.AbstractEventLoop | None) -> bool:
    return loop is None or loop.is_closed()


async def _close_at_loop_end(
    transport: weakref.ref[AiohttpTransport], session: aiohttp.ClientSession
) -> AsyncGenerator[None, None]:
    """Park until the loop shuts down (``asyncio.run`` finalizes async generators), then close.

    This is how a client that was never closed still closes its session on its own loop,
    instead of "Unclosed client session" at exit. The transport keeps this generator alive.
    """
    try:
        yield
    finally:
        # Dropped first: a call made while this closes (another async generator's cleanup,
        # finalized beside this one) opens a session of its own rather than using this one.
        owner = transport()
        if owner is not None and owner._session is session:
            owner._session = None
        if not session.closed:
            await session.close()


# send() uses aiohttp's private ``ClientSession._request`` and ``ClientResponse._writer``
# (alike from 3.10.11, the floor, to 3.14: CI runs both ends). An aiohttp whose names differ,
# or another major version, takes the public path: ``await session.request(...)``, and the
# response's release and wait_for_close() as its context manager does them.
_UNROLLED = (
    aiohttp.__version__.startswith("3.")
    and inspect.iscoroutinefunction(getattr(aiohttp.ClientSession, "_request", None))
    and isinstance(getattr(aiohttp.ClientResponse, "_writer", None), property)
)

# aiohttp (3.10+) sends an idempotent request a second time when its connection drops before
# the response starts, outside any retry budget: ``max_retries=0`` gave 2 arrivals. The
# session's ``_retry_connection`` (what aiohttp's own test client turns off) stops that with
# no cost per request; an aiohttp without it gets `_SingleAttemptResponse` instead.
_RESEND_SWITCH = "_retry_connection" in getattr(aiohttp.ClientSession, "ATTRS", ())


class _SingleAttemptResponse(aiohttp.ClientResponse):
    """A response whose dropped connection aiohttp does not resend on its own.

    Where the session has no ``_retry_connection`` switch: the drop (ServerDisconnectedError /
    ClientOSError from ``start``) is re-raised as another ClientConnectionError, which leaves
    every resend to the SDK's retry policy (at the cost of a coroutine per response).
    """

    async def start(self, connection: Any) -> aiohttp.ClientResponse:
        try:
            return await super().start(connection)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise _DroppedError(exc) from exc


class _DroppedError(aiohttp.ClientConnectionError):
    """The connection dropped before the response: not resent by aiohttp (see above)."""

    def __init__(self, cause: aiohttp.ClientError) -> None:
        super().__init__(str(cause))
        self.cause = cause


async def _chunks(resp: aiohttp.ClientResponse, size: int = 1 << 16) -> AsyncIterator[bytes]:
    try:
        async for chunk in resp.content.iter_chunked(size):
            yield chunk
    except aiohttp.ClientError as exc:
        raise _connection_error(exc) from exc
    except asyncio.TimeoutError as exc:
        raise errors.APITimeoutError("download timed out") from exc


def _connection_error(exc: aiohttp.ClientError) -> errors.APIConnectionError:
    """Map an aiohttp error, remembering whether the request may have reached the server."""
    if isinstance(exc, _DroppedError):
        exc = exc.cause
    if isinstance(exc, _CONNECT_TIMEOUT):
        return errors.APITimeoutError("timed out connecting", maybe_sent=False)
    if isinstance(exc, aiohttp.ServerTimeoutError):
        return errors.APITimeoutError("timed out waiting for the response")
    # A connector error means no byte of the request left this machine: safe to resend.
    sent = not isinstance(exc, aiohttp.ClientConnectorError)
    return errors.APIConnectionError(
        f"connection failed: {type(exc).__name__}: {exc}", maybe_sent=sent
    )

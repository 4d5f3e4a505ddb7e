"""The request pipeline around every handler: recording, latency, auth, faults, error bodies.

Order for an API request (under /v1): record it and count it (413 for an oversized body), sleep
``latency``, authenticate (401), inject a configured fault (429, 500/503, or a drop after
processing), run the handler, turn any error into ``{code, message}`` (an unexpected exception is a
logged 500), stamp ``X-Request-Id``, report the exchange to the hook. File routes only get the
error body and the request id.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from ._config import SimulatorConfig
from ._http import ApiError, error_response
from ._records import RecordedRequest
from ._runtime import RUNTIME, Runtime

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = logging.getLogger("argil_async.testing")


@web.middleware
async def simulator_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Route API requests through the full pipeline, file requests through error rendering."""
    request_id = f"req_{uuid.uuid4().hex}"
    if request.path != "/v1" and not request.path.startswith("/v1/"):
        response = await _respond(request, handler)
        response.headers["X-Request-Id"] = request_id
        return response
    rt = request.app[RUNTIME]
    record, refusal = await _record(request, rt, request_id)
    drop, response = await _answer(request, handler, rt, record, refusal)
    response.headers["X-Request-Id"] = request_id
    if drop:
        rt.stats.injected_drops += 1
        rt.stats.drops_by_route[record.route] += 1
        if request.transport is not None:
            request.transport.close()
    elif rt.on_exchange is not None and isinstance(response, web.Response):
        body = response.body if isinstance(response.body, bytes) else b""
        rt.on_exchange(record, response.status, response.headers, body)
    return response


async def _record(
    request: web.Request, rt: Runtime, request_id: str
) -> tuple[RecordedRequest, ApiError | None]:
    """Read the whole body, count the request and keep it in ``sim.received``.

    A body over the size limit is recorded as empty, with the 413 to answer instead.
    """
    try:
        body, refusal = await request.read(), None
    except web.HTTPRequestEntityTooLarge as exc:
        body, refusal = b"", ApiError(413, f"body: {exc.text}")
    resource = request.match_info.route.resource
    template = resource.canonical.removeprefix("/v1") if resource is not None else "<unmatched>"
    record = RecordedRequest(
        request_id=request_id,
        method=request.method,
        path=request.path,
        route=f"{request.method} {template}",
        path_params=dict(request.match_info),
        query_string=request.query_string,
        headers={name.lower(): value for name, value in request.headers.items()},
        body=body,
    )
    rt.stats.requests += 1
    rt.stats.by_route[record.route] += 1
    rt.received.append(record)
    return record, refusal


async def _answer(
    request: web.Request,
    handler: Handler,
    rt: Runtime,
    record: RecordedRequest,
    refusal: ApiError | None,
) -> tuple[bool, web.StreamResponse]:
    """(drop the connection afterwards?, the response) after latency, auth and faults."""
    try:
        if refusal is not None:
            raise refusal
        if rt.config.latency > 0:
            await asyncio.sleep(rt.config.latency)
        authenticate(request, rt.config.api_key)
        drop = _inject_fault(rt, record)
    except ApiError as exc:
        return False, error_response(exc.status, exc.message, exc.headers)
    return drop, await _respond(request, handler)


async def _respond(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Run the handler; ``ApiError`` and aiohttp's 404/405 become ``{code, message}`` bodies."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        allow = exc.headers.get("Allow")
        detail = f" (allowed: {allow})" if allow else ""
        message = f"{request.method} {request.path}: {exc.reason}{detail}"
        return error_response(exc.status, message, {"Allow": allow} if allow else None)
    except Exception:
        log.exception("simulator bug while handling %s %s", request.method, request.path)
        message = f"server: simulator bug while handling {request.method} {request.path} (logged)"
        return error_response(500, message)


def authenticate(request: web.Request, api_key: str) -> None:
    """Accept ``x-api-key``, or the ``Authorization: ApiKey <key>`` form of the asset docs."""
    supplied = request.headers.get("x-api-key")
    authorization = request.headers.get("Authorization")
    if supplied is None and authorization is not None:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "apikey":
            raise ApiError(
                401, "Authorization: only the ApiKey scheme is accepted; send x-api-key: <key>"
            )
        supplied = value.strip()
    if supplied is None:
        raise ApiError(401, "x-api-key: header is required")
    if not hmac.compare_digest(_key_bytes(supplied), _key_bytes(api_key)):
        raise ApiError(401, "x-api-key: invalid API key")


def _key_bytes(key: str) -> bytes:
    """Bytes to compare; header bytes that are not UTF-8 arrive as lone surrogates."""
    return key.encode("utf-8", "surrogatepass")


def _inject_fault(rt: Runtime, record: RecordedRequest) -> bool:
    """Raise the 429 or 5xx due on this request; return True when it must be dropped instead."""
    config = rt.config
    if not _in_scope(config, record):
        return False
    count = _count_in_scope(rt)
    if _every(config.rate_limit_every, count):
        rt.stats.injected_429 += 1
        retry_after = {"Retry-After": f"{config.retry_after:g}"}
        raise ApiError(429, "rate limit: too many requests (simulated)", retry_after)
    if _every(config.server_error_every, count):
        rt.stats.injected_5xx += 1
        rt.stats.server_errors_by_route[record.route] += 1
        status = 500 if rt.stats.injected_5xx % 2 else 503
        raise ApiError(status, f"server: simulated {status} error")
    return _every(config.drop_every, count)


def _in_scope(config: SimulatorConfig, record: RecordedRequest) -> bool:
    """Whether faults apply to this method and path (relative to /v1)."""
    methods = config.fault_methods
    if methods is not None and record.method not in {m.upper() for m in methods}:
        return False
    prefix = config.fault_path_prefix
    return prefix is None or record.path.removeprefix("/v1").startswith(prefix)


def _count_in_scope(rt: Runtime) -> int:
    """Number this in-scope request; changing any fault setting restarts the count at 1."""
    config = rt.config
    settings = (
        config.rate_limit_every,
        config.server_error_every,
        config.drop_every,
        config.fault_methods,
        config.fault_path_prefix,
    )
    if settings != rt.fault_settings:
        rt.fault_settings = settings
        rt.fault_counter = 0
    rt.fault_counter += 1
    return rt.fault_counter


def _every(period: int | None, count: int) -> bool:
    """True on every ``period``-th request (never when the fault is off)."""
    return period is not None and period > 0 and count % period == 0

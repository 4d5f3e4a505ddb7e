"""HTTP helpers shared by the handlers: the error type, JSON responses and query parsing.

Every error the API returns is ``{"code": <status>, "message": "<field>: <rule>"}``; handlers raise
``ApiError`` and the middleware turns it into that body, so no handler builds error JSON itself.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from typing import Any

import msgspec
from aiohttp import web


class ApiError(Exception):
    """An error response: raised anywhere in a handler, rendered by the middleware."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def bad_request(message: str) -> ApiError:
    """A 400 with the given ``field: rule`` message (handlers ``raise bad_request(...)``)."""
    return ApiError(400, message)


def not_found(what: str, id: str) -> ApiError:
    """The 404 the docs name, e.g. "Video not found: <id>"."""
    return ApiError(404, f"{what} not found: {id}")


def error_response(
    status: int, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """The documented error body with the HTTP status repeated as ``code``."""
    return json_response({"code": status, "message": message}, status=status, headers=headers)


def json_response(
    data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A JSON response encoded with msgspec (fast, and bytes are what the exchange hook wants)."""
    return web.Response(
        body=msgspec.json.encode(data),
        status=status,
        content_type="application/json",
        headers=headers,
    )


async def read_json_object(request: web.Request, *, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is ``{}`` when the body is optional."""
    raw = await request.read()
    if not raw.strip():
        if optional:
            return {}
        raise bad_request("body: a JSON object is required")
    try:
        body = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise bad_request(f"body: invalid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise bad_request("body: must be a JSON object")
    return body


def int_param(
    query: Mapping[str, str], name: str, default: int, *, low: int = 1, high: int | None = None
) -> int:
    """An integer query parameter within [low, high], else 400 naming the parameter."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    rule = (
        f"must be an integer between {low} and {high}" if high else f"must be an integer >= {low}"
    )
    # Plain ASCII digits only: int() would also take "1_0", " 1" and digits of other scripts.
    if not (raw.isascii() and raw.isdigit()):
        raise bad_request(f"{name}: {rule}")
    value = int(raw)
    if value < low or (high is not None and value > high):
        raise bad_request(f"{name}: {rule}")
    return value


def enum_param(query: Mapping[str, str], name: str, allowed: Collection[str]) -> str | None:
    """An optional query parameter restricted to ``allowed`` values."""
    value = query.get(name)
    if value is None:
        return None
    if value not in allowed:
        raise bad_request(f"{name}: must be one of {', '.join(sorted(allowed))}")
    return value


def page_count(total: int, size: int) -> int:
    """Pages needed for ``total`` items; 0 for an empty result (documented as 0 or 1)."""
    return math.ceil(total / size)


def page_slice(items: list[Any], page: int, size: int) -> list[Any]:
    """The items of 1-based ``page``; a page past the end is empty."""
    start = (page - 1) * size
    return items[start : start + size]

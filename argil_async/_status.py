"""Reading a response's status: the typed error it means, its request id, its Retry-After.

    raise_for_status(response)   # NotFoundError for a 404, RateLimitError for a 429, ...

Error bodies are masked (API key, URL tokens) before they reach an exception or a message.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import msgspec

from . import errors
from ._redact import redact_bytes
from ._seam import Response

__all__ = ["parse_retry_after", "raise_for_status", "request_id_of"]

_REQUEST_ID_HEADERS = ("x-request-id", "request-id", "x-amzn-requestid", "cf-ray")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


_STATUS_ERRORS: dict[int, type[errors.APIStatusError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    403: errors.PermissionDeniedError,
    404: errors.NotFoundError,
    409: errors.ConflictError,
    429: errors.RateLimitError,
}


def raise_for_status(response: Response) -> None:
    """Raise the APIStatusError subclass that matches a non-2xx response."""
    status = response.status
    if status < 300:
        return
    if status < 400:
        code, message = None, _redirect_message(response.headers.get("Location"))
    else:
        # Masked before _describe truncates it: a key cut in half would no longer match.
        response = Response(status, response.headers, redact_bytes(response.body))
        code, message = _describe(response.body, status)
    request_id = request_id_of(response.headers)
    cls = _STATUS_ERRORS.get(status)
    if cls is None:
        cls = errors.InternalServerError if status >= 500 else errors.APIStatusError
    details: dict[str, Any] = {"code": code, "body": response.body, "headers": response.headers}
    if issubclass(cls, errors.RateLimitError):
        details["retry_after"] = parse_retry_after(response.headers.get("Retry-After"))
    raise cls(message, status_code=status, request_id=request_id, **details)


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """The request id a response carries, under whichever header the server used."""
    return next((headers[h] for h in _REQUEST_ID_HEADERS if h in headers), None)


def _redirect_message(location: str | None) -> str:
    host = urlsplit(location).netloc if location else ""
    where = f" to {host}" if host else ""
    return f"redirect{where} not followed: the API key is only ever sent to the base URL"


def _describe(body: bytes, status: int) -> tuple[int | None, str]:
    """The ``code`` and ``message`` of an error body; the raw text when it has no message.

    Besides the API's ``{"code", "message"}`` this reads ``{"error": "..."}``, a list of
    messages (``{"message": ["a", "b"]}``) and a nested ``{"error": {"message": ...}}``.
    """
    try:
        parsed = msgspec.json.decode(body)
    except (msgspec.MsgspecError, RecursionError, MemoryError, UnicodeError):
        parsed = None  # (msgspec 0.19 raises UnicodeDecodeError on bytes that are not UTF-8)
    code, message = None, None
    if isinstance(parsed, dict):
        raw_code, error = parsed.get("code"), parsed.get("error")
        code = raw_code if type(raw_code) is int else None
        nested = error.get("message") if isinstance(error, dict) else None
        message = _text(parsed.get("message")) or _text(nested) or _text(error)
    if message is None:
        message = body.decode("utf-8", "replace").strip()[:500] or f"HTTP {status}"
    return code, message


def _text(value: object) -> str | None:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        value = "; ".join(value)
    return value if isinstance(value, str) and value else None

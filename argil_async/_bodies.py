"""Reading a response body within ``max_response_size``, inflating what the server compressed.

A body with a Content-Length (the usual case) is read in one piece; a chunked or compressed
one chunk by chunk, stopping at the cap (a gzip bomb never inflates past it):

```python
body = await read_capped(resp, limit=32 << 20)   # ResponseTooLargeError beyond it
```

aiohttp's response is only a type here: ``_transport.py`` stays the one module importing it.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from . import errors

if TYPE_CHECKING:
    from aiohttp import ClientResponse

__all__ = ["DEFAULT_MAX_RESPONSE_SIZE", "ERROR_BODY_LIMIT", "read_capped"]

DEFAULT_MAX_RESPONSE_SIZE = 32 * 1024 * 1024  # the largest listing page is well under 1 MiB
ERROR_BODY_LIMIT = 64 * 1024  # an error body is read for its message: the start is enough


def read_capped(resp: ClientResponse, limit: int, *, inflate: bool = True) -> Awaitable[bytes]:
    """The body, inflated if the server compressed it, refused beyond ``limit`` bytes.

    The declared Content-Length is checked before reading, and the running size while
    reading, so a chunked or compressed (gzip bomb) body stops at the limit. An error
    status keeps the start of its body instead (its status matters more than its size).
    ``inflate=False`` where aiohttp already inflates (downloads keep its auto_decompress).

    A plain ``def`` returning what to await: the usual body is aiohttp's own ``read()``, with
    no coroutine of this function's between (a refused declared length raises at the call).
    """
    truncate = resp.status >= 400
    declared = resp.content_length
    if truncate:
        limit = min(limit, ERROR_BODY_LIMIT)
    elif declared is not None and declared > limit:
        raise errors.ResponseTooLargeError(limit, received=declared)
    encoding = resp.headers.get("Content-Encoding")
    if (
        declared is not None
        and declared <= limit
        and encoding is None
        and "Transfer-Encoding" not in resp.headers
    ):
        # The usual response: aiohttp reads exactly the declared length (more cannot get
        # through, less is a payload error), so one read needs no chunk loop or copies.
        return resp.read()
    return _read_chunks(resp, limit, truncate, encoding, inflate)


async def _read_chunks(
    resp: ClientResponse, limit: int, truncate: bool, encoding: str | None, inflate: bool
) -> bytes:
    """A chunked or compressed body (or an error's start), read within ``limit`` bytes."""
    inflater = _inflater(encoding) if inflate else None
    body = bytearray()
    async for chunk in resp.content.iter_any():
        body += _inflate(inflater, chunk, limit + 1 - len(body)) if inflater else chunk
        if len(body) > limit:
            resp.close()  # the rest stays unread: never reuse this connection
            if truncate:
                return bytes(body[:limit])
            raise errors.ResponseTooLargeError(limit, received=len(body))
    if inflater is not None and not inflater.eof and not truncate:
        raise errors.ResponseValidationError("compressed response body ended early")
    return bytes(body)


def _inflate(inflater: Any, chunk: bytes, room: int) -> bytes:
    """At most ``room`` bytes inflated from ``chunk`` (a bomb stops at the limit)."""
    try:
        return bytes(inflater.decompress(chunk, room))
    except zlib.error as exc:
        raise errors.ResponseValidationError(f"corrupt compressed response body: {exc}") from exc


def _inflater(encoding: str | None) -> Any:
    """A zlib decompressor for gzip/deflate; None for identity; unknown codings refused."""
    coding = (encoding or "identity").strip().lower()
    if coding in ("", "identity"):
        return None
    if coding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, detected
    raise errors.ResponseValidationError(f"unsupported response Content-Encoding {coding!r}")

"""Secrets out of errors: the API key and webhook tokens never reach a message, body or header.

A server may echo what it was sent (``401: invalid api key sk_live_...``), and a callback URL
carries its webhook token in the query (``?token=...``). Every
[`ArgilError`][argil_async.errors.ArgilError] passes what it keeps through `redact_text()` /
`redact_bytes()` / `redact_headers()`, so ``str(exc)``, ``repr(exc)``, tracebacks, ``exc.body`` and
``exc.headers`` are safe to log:

```python
register_secret("sk_live_abc123456")
redact_text("401: invalid api key sk_live_abc123456")   # '401: invalid api key ***'
```

Keys are registered process-wide by each client (the set only grows, and holds a handful of
short strings), so an error built anywhere, by any client, is scrubbed of every known key.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from urllib.parse import quote

from multidict import CIMultiDict

__all__ = ["MASK", "redact_bytes", "redact_headers", "redact_text", "register_secret"]

MASK = "***"
# Shorter strings would mask ordinary words ("test", "0"); real API keys are much longer.
_MIN_SECRET = 8
# A secret-bearing query parameter in any URL (webhook callback tokens, signed links).
_QUERY_SECRET = re.compile(
    r"(?i)([?&;](?:token|secret|signature|sig|key|apikey|api_key|api-key|access_token|"
    r"password|auth)=)[^&#\s\"'<>\\]+"
)
_QUERY_SECRET_BYTES = re.compile(_QUERY_SECRET.pattern.encode())
_USERINFO = re.compile(r"(?i)([a-z][a-z0-9+.-]*://)[^/\s@\"'<>]+@")
_lock = threading.Lock()
_secrets: frozenset[str] = frozenset()
_secret_text: re.Pattern[str] | None = None  # every spelling of every secret, any letter case
_secret_bytes: re.Pattern[bytes] | None = None


def register_secret(secret: str) -> None:
    """Mask ``secret`` (and its JSON-escaped and URL-quoted spellings, in any letter case)."""
    global _secrets, _secret_text, _secret_bytes
    if len(secret) < _MIN_SECRET or secret in _secrets:
        return
    with _lock:
        _secrets = _secrets | {secret}
        spellings = {
            form for key in _secrets for form in (key, json.dumps(key)[1:-1], quote(key, safe=""))
        }
        # Longest first, so a spelling that contains another is masked whole.
        pattern = "|".join(re.escape(form) for form in sorted(spellings, key=len, reverse=True))
        _secret_text = re.compile(pattern, re.IGNORECASE)
        _secret_bytes = re.compile(pattern.encode("utf-8", "surrogatepass"), re.IGNORECASE)


def redact_text(text: str) -> str:
    """``text`` with every registered secret and every query token replaced by ``***``."""
    if _secret_text is not None:
        text = _secret_text.sub(MASK, text)
    text = _QUERY_SECRET.sub(rf"\g<1>{MASK}", text)
    return _USERINFO.sub(rf"\g<1>{MASK}@", text)


def redact_bytes(body: bytes) -> bytes:
    """``body`` with every registered secret and every query token replaced by ``***``."""
    if _secret_bytes is not None:
        body = _secret_bytes.sub(MASK.encode(), body)
    return _QUERY_SECRET_BYTES.sub(rb"\g<1>" + MASK.encode(), body)


def redact_headers(headers: Mapping[str, str]) -> Mapping[str, str]:
    """``headers`` unchanged when clean, else a case-insensitive copy with values redacted."""
    if all(redact_text(value) == value for value in headers.values()):
        return headers
    return CIMultiDict((name, redact_text(value)) for name, value in headers.items())

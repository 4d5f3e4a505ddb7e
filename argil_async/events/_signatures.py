"""Standard Webhooks signatures: [`verify_signature()`][argil_async.events.verify_signature] and the
signer the simulator uses."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import math
import time
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from argil_async.errors import WebhookSignatureError

from .. import _validation as check

__all__ = ["sign", "signing_key", "verify_signature"]


_TOLERANCE = 300.0  # seconds, both ways (Standard Webhooks)
_LONGEST = 10.0**12  # seconds; a longer tolerance is as good as none (and overflows timedelta)


def verify_signature(
    body: bytes | bytearray | memoryview | str,
    headers: Mapping[str, str],
    secret: str | bytes,
    *,
    tolerance: float = _TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a Standard Webhooks signature; raise
    [`WebhookSignatureError`][argil_async.errors.WebhookSignatureError] unless valid.

    Argil signs deliveries to endpoints registered through its newer webhook-endpoints API:
    ``webhook-signature`` lists space-separated ``v1,<base64 HMAC-SHA256>`` of
    ``{webhook-id}.{webhook-timestamp}.{body}``, keyed with the base64 part of the
    ``whsec_...`` secret (a ``bytes`` secret is the raw key). The timestamp must be within
    ``tolerance`` seconds of ``now`` either way, which bounds replays; compare the raw body,
    before any JSON parsing. Header names are matched case-insensitively. Every accept/refuse
    decision is the ``standardwebhooks`` reference library's: the timestamp is any number
    ``float()`` reads (``+1700000000``, ``1700000000.0``), signed as its whole seconds; each
    single-space-separated entry must equal ``v1,`` + the canonical padded base64 exactly:

    ```python
    verify_signature(await request.body(), request.headers, os.environ["WHSEC"])
    ```
    """
    if not isinstance(headers, Mapping):
        raise check.fail("headers", "must be a mapping of header names to values", headers)
    check.number("tolerance", tolerance, low=0)  # NaN would let any timestamp through
    now = time.time() if now is None else check.number("now", now)
    fields = {str(name).lower(): value for name, value in headers.items()}
    msg_id = _header(fields, "webhook-id")
    stamp = _header(fields, "webhook-timestamp")
    listed = _header(fields, "webhook-signature")
    if not isinstance(body, (bytes, bytearray, memoryview, str)):
        raise check.fail("body", "must be bytes or str", body)
    when = _timestamp(stamp)
    try:
        skew = datetime.fromtimestamp(now, tz=timezone.utc) - when
    except (ValueError, OverflowError, OSError):
        raise check.fail("now", "must be a Unix time in seconds", now) from None
    if abs(skew) > timedelta(seconds=min(tolerance, _LONGEST)):
        seconds = skew.total_seconds()
        raise WebhookSignatureError(
            f"webhook-timestamp: {seconds:+.0f} s from now (stale or early)"
        )
    try:
        payload = body.encode() if isinstance(body, str) else bytes(body)
        signed_id = msg_id.encode()
    except UnicodeEncodeError:
        raise WebhookSignatureError("webhook-id or body: not encodable as UTF-8") from None
    expected = b"v1," + _digest(payload, signed_id, str(math.floor(when.timestamp())), secret)
    for candidate in listed.split(" "):  # only a space separates signatures, as signed
        if hmac.compare_digest(candidate.encode("utf-8", "surrogatepass"), expected):
            return
    raise WebhookSignatureError("webhook-signature: no v1 signature matches")


def _timestamp(stamp: str) -> datetime:
    """The moment ``webhook-timestamp`` names, read as the reference library reads it.

    Any text Python's ``float`` takes (a sign, a fraction, surrounding blanks) counts, to the
    microsecond; the signed text is then its whole seconds, so ``+1700000000`` and
    ``1700000000.0`` are signed as ``1700000000``.
    """
    try:
        return datetime.fromtimestamp(float(stamp), tz=timezone.utc)
    except (ValueError, OverflowError, OSError):
        raise WebhookSignatureError("webhook-timestamp: not a Unix time in seconds") from None


def _header(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise WebhookSignatureError(f"{name}: header missing")
    return value


def _b64(text: str) -> bytes:
    """Decoded base64 (padding optional), or b"" when ``text`` is not base64."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


def signing_key(secret: str | bytes) -> bytes:
    """The HMAC key: raw bytes as given, or the base64 text after ``whsec_``."""
    key = secret if isinstance(secret, bytes) else None
    if isinstance(secret, str):
        key = _b64(secret.removeprefix("whsec_"))
    if not key:
        raise check.fail("secret", "must be a whsec_<base64> signing secret")  # never shown
    return key


def sign(body: bytes, msg_id: str, stamp: str, secret: str | bytes) -> str:
    """The base64 v1 signature of one delivery (the simulator signs with it too)."""
    signed_id = msg_id.encode("utf-8", "surrogatepass")
    return _digest(body, signed_id, stamp, secret).decode()


def _digest(body: bytes, msg_id: bytes, stamp: str, secret: str | bytes) -> bytes:
    """Base64 of the HMAC-SHA256 of ``{id}.{stamp}.{body}`` (canonical, padded)."""
    signed = b"%s.%s.%s" % (msg_id, stamp.encode(), body)
    return base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest())

"""Standard Webhooks signatures: :func:`verify_signature` and the signer the simulator uses."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping

from argil_async.errors import InvalidRequestError, WebhookSignatureError

from .. import _validation as check
from ._payloads import as_bytes

__all__ = ["sign", "signing_key", "verify_signature"]


_TOLERANCE = 300.0  # seconds, both ways (Standard Webhooks)


def verify_signature(
    body: bytes | bytearray | memoryview | str,
    headers: Mapping[str, str],
    secret: str | bytes,
    *,
    tolerance: float = _TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a Standard Webhooks signature; raise :class:`WebhookSignatureError` unless valid.

    Argil signs deliveries to endpoints registered through its newer webhook-endpoints API:
    ``webhook-signature`` lists space-separated ``v1,<base64 HMAC-SHA256>`` of
    ``{webhook-id}.{webhook-timestamp}.{body}``, keyed with the base64 part of the
    ``whsec_...`` secret (a ``bytes`` secret is the raw key). The timestamp must be within
    ``tolerance`` seconds of ``now`` either way, which bounds replays; compare the raw body,
    before any JSON parsing. Header names are matched case-insensitively::

        verify_signature(await request.body(), request.headers, os.environ["WHSEC"])
    """
    if not isinstance(headers, Mapping):
        raise check.fail("headers", "must be a mapping of header names to values", headers)
    check.number("tolerance", tolerance, low=0)  # NaN would let any timestamp through
    now = time.time() if now is None else check.number("now", now)
    fields = {str(name).lower(): value for name, value in headers.items()}
    msg_id = _header(fields, "webhook-id")
    stamp = _header(fields, "webhook-timestamp")
    listed = _header(fields, "webhook-signature")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 15):
        raise WebhookSignatureError("webhook-timestamp: not a Unix time in seconds")
    skew = now - int(stamp)
    if abs(skew) > tolerance:
        raise WebhookSignatureError(f"webhook-timestamp: {skew:+.0f} s from now (stale or early)")
    expected = base64.b64decode(sign(as_bytes(body), msg_id, stamp, secret))
    for candidate in listed.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(_b64(value), expected):
            return
    raise WebhookSignatureError("webhook-signature: no v1 signature matches")


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
        raise InvalidRequestError("secret", "must be a whsec_<base64> signing secret")
    return key


def sign(body: bytes, msg_id: str, stamp: str, secret: str | bytes) -> str:
    """The base64 v1 signature of one delivery (the simulator signs with it too)."""
    signed = b"%s.%s.%s" % (msg_id.encode("utf-8", "surrogatepass"), stamp.encode(), body)
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()

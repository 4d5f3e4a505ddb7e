"""Who may deliver webhooks: the URL token or a Standard Webhooks signature."""

from __future__ import annotations

import hmac
import os
import secrets
import urllib.parse
from collections.abc import Mapping

from argil_async.errors import WebhookError

from .. import _validation as check
from ._signatures import signing_key, verify_signature

__all__ = ["SECRET_ENV", "SIGNING_SECRET_ENV", "Credentials"]

SECRET_ENV = "ARGIL_WEBHOOK_SECRET"
SIGNING_SECRET_ENV = "ARGIL_WEBHOOK_SIGNING_SECRET"


class Credentials:
    """The token and the signing secret a receiver accepts (either suffices)."""

    def __init__(self, secret: str | None, signing_secret: str | None) -> None:
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise check.fail("secret", "must be a non-empty string or None")  # never shown
        signing = signing_secret or os.environ.get(SIGNING_SECRET_ENV) or None
        if signing is not None:
            signing_key(signing)  # refuse a malformed signing secret now, not per delivery
        self.signing_secret = signing
        self.token = _token(secret, signed=signing is not None)
        # a random token of this process: other workers cannot share it
        self.generated = secret is None and signing is None and not os.environ.get(SECRET_ENV)
        self._token_bytes = (self.token or "").encode()

    def check(
        self, body: bytes, fields: Mapping[str, str], query: Mapping[str, str] | str | bytes | None
    ) -> None:
        """A signature when one is sent and we hold the secret, else the token, must match.

        ``fields`` are the headers with lower-case names. Raises WebhookError (401).
        """
        if self.signing_secret is not None and "webhook-signature" in fields:
            verify_signature(body, fields, self.signing_secret)
            return
        if not self._token_matches(_query_token(query)):
            raise WebhookError(
                "missing or invalid token or signature", status_code=401, reason="unauthorized"
            )

    def _token_matches(self, token: str | None) -> bool:
        if token is None or self.token is None:
            return False
        return hmac.compare_digest(token.encode("utf-8", "surrogatepass"), self._token_bytes)


def _token(secret: str | None, *, signed: bool) -> str | None:
    """The token: given, else ``ARGIL_WEBHOOK_SECRET``, else none (signed) or a random one."""
    if secret is not None:
        return secret
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env
    return None if signed else secrets.token_urlsafe(32)


def _query_token(query: Mapping[str, str] | str | bytes | None) -> str | None:
    if query is None:
        return None
    if isinstance(query, (bytes, bytearray)):  # an ASGI scope's query_string
        query = query.decode("latin-1")
    if isinstance(query, str):
        values = urllib.parse.parse_qs(query, keep_blank_values=True).get("token")
        return values[0] if values else None
    if not isinstance(query, Mapping):
        raise check.fail("query", "must be a mapping or a query string", query)
    value = query.get("token")
    return value if isinstance(value, str) else None

"""Small validators that turn bad input into 400s whose message names the field and the rule.

Each takes `where`, the dotted path of the value ("moments[0].zoom.level"), so every message reads
like "moments[0].zoom.level: must be between 1 and 2".
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import urlsplit

from ._http import bad_request

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain"}
_UNSAFE_URL_CHARACTER = re.compile(r"[\s\x00-\x1f\x7f-\x9f<>]")


def join(where: str, key: str) -> str:
    """The dotted path of `key` inside `where` (the top level has an empty `where`)."""
    return f"{where}.{key}" if where else key


def require_key(body: dict[str, Any], key: str, where: str = "") -> Any:
    """The value of a required field, or 400 "<field>: is required"."""
    if key not in body:
        raise bad_request(f"{join(where, key)}: is required")
    return body[key]


def require_object(value: Any, where: str) -> dict[str, Any]:
    """`value` itself must be a JSON object."""
    if not isinstance(value, dict):
        raise bad_request(f"{where}: must be an object")
    return value


def reject_unknown(body: dict[str, Any], allowed: Collection[str], where: str = "") -> None:
    """Enforce `additionalProperties: false`, naming the first unexpected key."""
    for key in body:
        if key not in allowed:
            raise bad_request(f"{join(where, key)}: unknown field (allowed: {', '.join(allowed)})")


def require_str(
    body: dict[str, Any], key: str, where: str = "", *, max_len: int | None = None
) -> str:
    """A required non-empty string field, optionally at most `max_len` characters long."""
    return check_str(require_key(body, key, where), join(where, key), max_len=max_len)


def check_str(value: Any, where: str, *, max_len: int | None = None) -> str:
    """A non-empty string of at most `max_len` characters."""
    if not isinstance(value, str) or not value:
        raise bad_request(f"{where}: must be a non-empty string")
    if max_len is not None and len(value) > max_len:
        raise bad_request(f"{where}: must be at most {max_len} characters (got {len(value)})")
    return value


def check_enum(value: Any, allowed: Collection[str], where: str) -> str:
    """One of the allowed strings."""
    if not isinstance(value, str) or value not in allowed:
        raise bad_request(f"{where}: must be one of {', '.join(allowed)}")
    return value


def check_bool(value: Any, where: str) -> bool:
    """A JSON boolean (not 0/1, not "true")."""
    if not isinstance(value, bool):
        raise bad_request(f"{where}: must be a boolean")
    return value


def check_number(value: Any, where: str, low: float, high: float) -> float:
    """A JSON number (booleans excluded) within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_request(f"{where}: must be a number")
    if not low <= value <= high:
        raise bad_request(f"{where}: must be between {low:g} and {high:g}")
    return float(value)


def check_url(value: Any, where: str, *, https_only: bool = False) -> str:
    """An absolute http(s) URL with a host; `https_only` where the docs demand HTTPS.

    Like the API's URL validator, it refuses whitespace, control characters and `<>` anywhere,
    a host that is not ASCII (an internationalised name must arrive punycode-encoded) and a
    port that is not a number from 0 to 65535.
    """
    url = check_str(value, where)
    schemes = ("https",) if https_only else ("http", "https")
    try:
        parts = urlsplit(url)
        valid = parts.scheme in schemes and bool(parts.hostname)
        parts.port  # noqa: B018 (raises ValueError for a port out of range or not a number)
    except ValueError:  # e.g. an unclosed IPv6 bracket: "http://[oops/"
        valid = False
    if not valid:
        raise bad_request(f"{where}: must be an absolute {' or '.join(schemes)} URL")
    if _UNSAFE_URL_CHARACTER.search(url):
        raise bad_request(f"{where}: must not contain spaces, control characters, < or >")
    if not (parts.hostname or "").isascii():
        raise bad_request(f"{where}: the host must be ASCII (punycode for international names)")
    return url


def check_callback_url(value: Any, where: str, *, allow_loopback_http: bool) -> str:
    """A per-render callback: HTTPS, or plain HTTP to a loopback host when allowed (local tests)."""
    url = check_url(value, where)
    parts = urlsplit(url)  # parses: check_url accepted it; the scheme comes back lower-case
    if parts.scheme == "https":
        return url
    if allow_loopback_http and is_loopback(parts.hostname or ""):
        return url
    raise bad_request(f"{where}: must be an https URL (http is accepted for loopback hosts only)")


def optional_callback_url(body: Mapping[str, Any], *, allow_loopback_http: bool) -> str | None:
    """The body's ``callbackUrl``, checked as `check_callback_url` does; None without one."""
    if "callbackUrl" not in body:
        return None
    return check_callback_url(
        body["callbackUrl"], "callbackUrl", allow_loopback_http=allow_loopback_http
    )


def is_loopback(host: str) -> bool:
    """True for localhost names and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_extras(value: Any, where: str, max_keys: int) -> dict[str, str]:
    """Metadata: an object of at most `max_keys` string values of at most 256 characters."""
    extras = require_object(value, where)
    if len(extras) > max_keys:
        raise bad_request(f"{where}: at most {max_keys} keys allowed (got {len(extras)})")
    for key, item in extras.items():
        if not isinstance(item, str):
            raise bad_request(f"{join(where, key)}: must be a string")
        if len(item) > 256:
            raise bad_request(
                f"{join(where, key)}: must be at most 256 characters (got {len(item)})"
            )
    return dict(extras)

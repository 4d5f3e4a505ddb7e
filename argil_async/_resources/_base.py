"""What every resource shares: a handle on the client and the argument checks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import msgspec

from .._urls import is_https_or_loopback
from ..errors import InvalidRequestError

if TYPE_CHECKING:
    from .._client import AsyncArgil

__all__ = [
    "Resource",
    "as_model",
    "check_extras",
    "check_name",
    "check_page_size",
    "check_url",
    "path_id",
    "query",
]


class Resource:
    """Base of the resources: holds the client that sends the requests."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncArgil) -> None:
        self._client = client


def path_id(field: str, value: object) -> str:
    """A non-empty id, quoted so that it cannot change the request path.

    Quoting leaves ``.`` and ``..`` alone, and URLs resolve them (``/videos/../render`` is
    ``/render``), so they are refused.
    """
    if not isinstance(value, str) or not value.strip() or value in (".", ".."):
        raise InvalidRequestError(field, f"must be a non-empty string id, got {value!r}")
    return quote(value, safe="")


def check_name(field: str, value: object, *, max_length: int = 256) -> str:
    """A display name of 1 to ``max_length`` characters."""
    if not isinstance(value, str) or not 1 <= len(value) <= max_length:
        shown = f"{len(value)} characters" if isinstance(value, str) else repr(value)
        raise InvalidRequestError(field, f"must be 1 to {max_length} characters, got {shown}")
    return value


def check_extras(value: Mapping[str, str] | None) -> dict[str, str] | None:
    """Extras are string keys and string values (the count is left to the server)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise InvalidRequestError("extras", "must be a mapping of strings to strings")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise InvalidRequestError(f"extras[{key!r}]", "keys and values must be strings")
    return dict(value)


def query(**params: Any) -> list[tuple[str, str]]:
    """Query pairs for the parameters that are set; a list value repeats its key."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        pairs.extend((key, str(v).lower() if isinstance(v, bool) else str(v)) for v in values)
    return pairs


def as_model(field: str, value: object, cls: type[Any]) -> Any:
    """Accept a request model or a dict with camelCase keys; validate it, keep what was given.

    A dict is checked against the model (types, ranges) but sent as given, so keys the SDK
    does not know yet still reach the server. A model is checked too: building a Struct does
    not check the types of its fields (``Moment(avatar_id=5)`` builds).
    """
    if not isinstance(value, (cls, Mapping)):
        raise InvalidRequestError(field, f"must be a {cls.__name__} or a dict, got {value!r}")
    try:
        msgspec.convert(msgspec.to_builtins(value) if isinstance(value, cls) else value, cls)
    except (msgspec.ValidationError, TypeError) as exc:
        raise InvalidRequestError(*_field_and_rule(field, str(exc))) from None
    return value if isinstance(value, cls) else dict(value)


def _field_and_rule(prefix: str, message: str) -> tuple[str, str]:
    """Turn msgspec's "rule - at `$.path`" into (prefix.path[.leaf], rule)."""
    path = ""
    if " - at `$" in message:
        message, _, where = message.rpartition(" - at `$")
        path = where.rstrip("`")
    leaf, colon, rule = message.partition(": ")
    if colon and leaf.isidentifier():
        return f"{prefix}{path}.{leaf}", rule
    return f"{prefix}{path}", message.replace("`", "")


def check_page_size(page_size: int | None, *, field: str = "page_size") -> None:
    """Page sizes run from 1 to 100."""
    if page_size is None:
        return
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= 100:
        raise InvalidRequestError(field, f"must be an integer from 1 to 100, got {page_size!r}")


def check_url(field: str, value: object, *, https_only: bool = False) -> str:
    """An absolute http(s) URL; with ``https_only``, https (plain http only to loopback)."""
    if isinstance(value, str):
        if https_only and is_https_or_loopback(value):
            return value
        parts = urlsplit(value)
        if not https_only and parts.scheme in ("http", "https") and parts.hostname:
            return value
    rule = "an https:// URL (http only for loopback hosts)" if https_only else "an http(s) URL"
    raise InvalidRequestError(field, f"must be {rule}, got {str(value)[:80]!r}")

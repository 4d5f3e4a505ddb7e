"""Every argument rule in one place, with one message style: ``<field>: must be <rule>, got <x>``.

Public methods call these before anything is sent, so a bad argument always ends in an
[`InvalidRequestError`][argil_async.errors.InvalidRequestError] naming it, never in a raw
``TypeError`` or ``UnicodeEncodeError`` deep inside the encoder. For example
``integer("page_size", 0, low=1, high=100)`` raises
``page_size: must be an integer from 1 to 100, got 0``.
"""

from __future__ import annotations

import datetime
import decimal
import math
import os
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import msgspec

from ._seam import Timeout
from ._urls import is_https_or_loopback
from .errors import InvalidRequestError

__all__ = [
    "api_key",
    "base_url",
    "boolean",
    "choice",
    "extras",
    "fail",
    "fields_of",
    "file_path",
    "function",
    "instance",
    "integer",
    "json_value",
    "media_url",
    "name",
    "number",
    "optional_text",
    "page_size",
    "path_id",
    "printable",
    "query",
    "query_value",
    "request_model",
    "seconds",
    "string_map",
    "text",
    "text_list",
    "timeout",
    "url",
]

M = TypeVar("M", bound=msgspec.Struct)
T = TypeVar("T")
_NOT_JSON = (
    bytes,
    bytearray,
    memoryview,
    datetime.datetime,
    datetime.date,
    datetime.time,
    datetime.timedelta,
    uuid.UUID,
    decimal.Decimal,
)
MAX_EXTRAS = 10
_ENCODE = msgspec.json.Encoder().encode


def fail(field: str, rule: str, value: object = ...) -> InvalidRequestError:
    """The error for ``field``; ``rule`` reads "must be ..."; a shown value is cut to 80 chars."""
    shown = "" if value is ... else f", got {_show(value)}"
    return InvalidRequestError(field, f"{rule}{shown}")


def _show(value: object) -> str:
    if isinstance(value, (str, bytes, int, float, bool)) or value is None:
        text_ = repr(value)
        return text_ if len(text_) <= 80 else text_[:77] + "..."
    return type(value).__name__


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate cannot go on the wire
        return False
    return True


def text(field: str, value: object, *, min_length: int = 0, max_length: int | None = None) -> str:
    """A string of UTF-8-encodable characters, with an optional length range."""
    if not isinstance(value, str):
        raise fail(field, "must be a string", value)
    if not _encodable(value):
        raise fail(field, "must be valid Unicode text (it holds a lone surrogate)")
    if len(value) < min_length or (max_length is not None and len(value) > max_length):
        top = f" to {max_length}" if max_length is not None else " or more"
        raise fail(field, f"must be {min_length}{top} characters long, got {len(value)}")
    return value


def optional_text(field: str, value: object, **lengths: int) -> str | None:
    """None, or a string as `text()` checks it."""
    return None if value is None else text(field, value, **lengths)


def query_value(field: str, value: object) -> str | None:
    """A query filter: None (no filter) or a non-empty string (the API refuses ``?x=``)."""
    return None if value is None else text(field, value, min_length=1)


def enum(field: str, value: object) -> str:
    """An enumerated value: any non-empty string, so a value the server adds later passes.

    The signature's ``Literal`` lets mypy catch a typo; at run time only the type is checked.
    """
    return text(field, value, min_length=1)


def name(field: str, value: object, *, max_length: int = 256) -> str:
    """A display name of 1 to ``max_length`` characters."""
    return text(field, value, min_length=1, max_length=max_length)


def text_list(field: str, value: object) -> list[str]:
    """A list (or other non-string iterable) of non-empty strings, e.g. asset types."""
    if type(value) not in (list, tuple) and (  # the usual case skips the ABC checks
        isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable)
    ):
        raise fail(field, "must be a list of strings", value)
    items: list[Any] = list(value)  # type: ignore[call-overload]
    for item in items:  # (a loop rather than all() over a generator: no generator frame)
        if type(item) is not str or not item or not (item.isascii() or _encodable(item)):
            break
    else:
        return items
    return [text(f"{field}[{i}]", item, min_length=1) for i, item in enumerate(items)]


def choice(field: str, value: T, allowed: Sequence[object]) -> T:
    """One of ``allowed``, e.g. ``choice("progress", "fast", ("auto", "off"))`` raises
    ``progress: must be one of 'auto', 'off', got 'fast'``."""
    if not any(value is option or (type(value) is type(option) and value == option)
               for option in allowed):  # fmt: skip
        raise fail(field, f"must be one of {', '.join(map(repr, allowed))}", value)
    return value


def function(field: str, value: T, *, optional: bool = False) -> T:
    """Something callable (None too, with ``optional``): a handler or a callback."""
    if not callable(value) and not (optional and value is None):
        raise fail(field, "must be callable" + (" or None" if optional else ""), value)
    return value


def instance(field: str, value: object, cls: type[T], what: str) -> T:
    """An instance of ``cls``, described to the caller as ``what`` ("an AsyncArgil")."""
    if not isinstance(value, cls):
        raise fail(field, f"must be {what}", value)
    return value


def printable(field: str, value: object, *, max_length: int | None = None) -> str:
    """A non-empty string of printable characters, not only spaces (a name that goes into
    keys, headers or logs), of at most ``max_length`` characters."""
    ok = isinstance(value, str) and value.strip() != "" and value.isprintable()
    if not ok or (max_length is not None and len(value) > max_length):  # type: ignore[arg-type]
        most = f" of at most {max_length} characters" if max_length is not None else ""
        raise fail(field, f"must be a non-empty printable string{most}", value)
    return value  # type: ignore[return-value]


def boolean(field: str, value: object) -> bool:
    """True or False (not 0/1, not "yes")."""
    if not isinstance(value, bool):
        raise fail(field, "must be True or False", value)
    return value


def integer(field: str, value: object, *, low: int | None = None, high: int | None = None) -> int:
    """A whole number (not a bool) in ``low..high``."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    if not ok or (low is not None and value < low) or (high is not None and value > high):  # type: ignore[operator]
        rule = "an integer" + _bounds(low, high)
        raise fail(field, f"must be {rule}", value)
    return value  # type: ignore[return-value]


def number(
    field: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    positive: bool = False,
) -> float:
    """A finite int or float (not a bool) in ``low..high``, above 0 with ``positive``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok and isinstance(value, float):
        ok = math.isfinite(value)
    if ok:
        ok = (low is None or value >= low) and (high is None or value <= high)  # type: ignore[operator]
        ok = ok and (not positive or value > 0)  # type: ignore[operator]
    if not ok:
        rule = "a finite number" + (" greater than 0" if positive else _bounds(low, high))
        raise fail(field, f"must be {rule}", value)
    return value  # type: ignore[return-value]


def _bounds(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" from {low:g} up"
    return f" up to {high:g}" if high is not None else ""


def timeout(field: str, value: object) -> Timeout:
    """A client or call timeout: seconds (the read timeout) or a [`Timeout`][argil_async.Timeout] of
    sane parts."""
    if not isinstance(value, Timeout):
        return Timeout.of(number(field, value, positive=True))
    number(f"{field}.connect", value.connect, positive=True)
    number(f"{field}.read", value.read, positive=True)
    if value.total is not None:
        number(f"{field}.total", value.total, positive=True)
    return value


def string_map(field: str, value: object, *, any_values: bool = False) -> dict[str, Any]:
    """A mapping of strings to strings (to any JSON value with ``any_values``)."""
    if not isinstance(value, Mapping):
        raise fail(field, "must be a mapping with string keys", value)
    check = json_value if any_values else text
    return {text(field, key): check(f"{field}[{key!r}]", item) for key, item in value.items()}


def seconds(field: str, value: object) -> float:
    """A duration: a finite number of seconds above 0 (waiter timeouts and poll intervals)."""
    return float(number(field, value, positive=True))


def page_size(value: object, *, field: str = "page_size") -> int | None:
    """Page sizes run from 1 to 100 (None: the server's default)."""
    if value is None or (type(value) is int and 1 <= value <= 100):  # the usual: no call
        return value
    return integer(field, value, low=1, high=100)


def path_id(field: str, value: object) -> str:
    """A non-empty id, quoted so that it cannot change the request path.

    Quoting leaves ``.`` and ``..`` alone, and URLs resolve them (``/videos/../render`` is
    ``/render``), so they are refused.
    """
    if not isinstance(value, str) or not value.strip() or value in (".", ".."):
        raise fail(field, "must be a non-empty string id", value)
    return quote(text(field, value), safe="")


def url(field: str, value: object, *, https_only: bool = False, loopback_http: bool = True) -> str:
    """An absolute http(s) URL; with ``https_only``, https (plain http only to loopback,
    unless ``loopback_http=False``: files Argil fetches itself must be https)."""
    candidate = text(field, value) if isinstance(value, str) else None
    if candidate is not None and candidate.isprintable():
        if https_only and is_https_or_loopback(candidate, allow_loopback_http=loopback_http):
            return candidate
        try:
            parts = urlsplit(candidate)
            host = parts.hostname
        except ValueError:
            parts, host = None, None
        if not https_only and parts is not None and parts.scheme in ("http", "https") and host:
            return candidate
    rule = "an http(s) URL"
    if https_only:
        rule = "an https:// URL" + (" (http only for loopback hosts)" if loopback_http else "")
    raise fail(field, f"must be {rule}", value)


def media_url(field: str, value: object) -> str:
    """The https URL of a file Argil downloads itself (an image, a video, an audio sample)."""
    return url(field, value, https_only=True, loopback_http=False)


def extras(value: object, *, field: str = "extras") -> dict[str, str] | None:
    """Extras: at most 10 string keys with string values (None: no extras)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise fail(field, "must be a mapping of strings to strings", value)
    if len(value) > MAX_EXTRAS:
        raise fail(field, f"must hold at most {MAX_EXTRAS} entries, got {len(value)}")
    for key, item in value.items():
        text(f"{field}[{key!r}]", key)
        text(f"{field}[{key!r}]", item)
    return dict(value)


def api_key(value: object) -> str:
    """An API key that can go in a header; never echoed in the error, even in part."""
    if value is None or value == "":
        raise fail(
            "api_key",
            "must be given: pass AsyncArgil(api_key=...) or set the ARGIL_API_KEY environment "
            "variable (no API key)",
        )
    if not isinstance(value, str):
        raise fail("api_key", f"must be a string, not {type(value).__name__}")
    if value != value.strip() or not value.isprintable() or not value.isascii():
        raise fail(
            "api_key",
            "must be printable ASCII without spaces around it (it holds spaces, control or "
            "non-ASCII characters: a line ending?)",
        )
    return value


def base_url(value: object) -> str:
    """The API's base URL: https (plain http for loopback hosts only), without a trailing /."""
    url = text("base_url", value)
    if not url.isprintable() or not is_https_or_loopback(url):
        try:
            host = urlsplit(url).hostname if "://" in url else None
        except ValueError:
            host = None
        rule = "must be an https:// URL (plain http is allowed only for loopback hosts)"
        raise fail("base_url", f"{rule}, got host {host!r}")
    return url.rstrip("/")


def file_path(field: str, value: object) -> str:
    """A file-system path (str or PathLike) that the OS can be asked about: not empty, no NUL."""
    try:
        path: str | bytes = os.fspath(value)  # type: ignore[call-overload]
    except TypeError:
        raise fail(field, "must be a file path", value) from None
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if not path or "\x00" in path:
        raise fail(field, "must be a non-empty file path without NUL characters", value)
    try:
        os.fsencode(path)
    except UnicodeEncodeError:
        raise fail(field, "must be a path the file system can encode", value) from None
    return path


def query(**params: Any) -> list[tuple[str, str]]:
    """Query pairs for the parameters that are set; a list value repeats its key."""
    pairs: list[tuple[str, str]] = []
    for key, value in params.items():
        if value is None:
            continue
        for v in value if isinstance(value, (list, tuple)) else (value,):  # no genexpr frame
            pairs.append((key, str(v).lower() if isinstance(v, bool) else str(v)))
    return pairs


def json_value(field: str, value: object) -> Any:
    """Any JSON value (str, finite number, bool, None, lists, string-keyed dicts), checked deep."""
    if isinstance(value, str):
        return text(field, value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        return number(field, value)
    if isinstance(value, (list, tuple)):
        return [json_value(f"{field}[{i}]", item) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        return {text(f"{field}", k): json_value(f"{field}.{k}", v) for k, v in value.items()}
    raise fail(field, "must be a JSON value (string, number, bool, list or dict)", value)


def request_model(field: str, value: object, cls: type[M], *, whole: bool = True) -> M:
    """A request model or a dict of its fields, checked and completed the same way.

    Dict keys may be camelCase (the API's) or snake_case; an unknown key is refused rather
    than sent, since the API rejects it. The result is a fresh, complete model: e.g.
    ``request_model("subtitles", {}, Subtitles)`` is ``Subtitles(enable=True)``. With
    ``whole=False`` the rules across fields (``Moment``'s transcript or audio) are left out,
    for a caller that reports those in its own words.
    """
    if isinstance(value, dict) or (not isinstance(value, cls) and isinstance(value, Mapping)):
        raw = _wire_keys(field, _builtins(field, dict(value)), cls)
    elif isinstance(value, cls):
        raw = _builtins(field, value)
    else:
        raise fail(field, f"must be a {cls.__name__} or a dict", value)
    try:
        model = msgspec.convert(raw, cls)  # strict types: no bytes or dates for strings
        _ENCODE(model)  # a lone surrogate fails here
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(*_field_and_rule(field, str(exc))) from None
    except UnicodeEncodeError:
        json_value(field, raw)  # finds and names the culprit
        raise fail(field, "must hold valid Unicode text only") from None
    check = getattr(model, "check", None) if whole else None
    try:
        if check is not None:
            check()
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{field}.{exc.field}", exc.rule) from None
    return model


def _builtins(field: str, value: object) -> Any:
    """Plain lists and dicts (nested models become camelCase dicts); bytes and the like stay
    as they are, so that `json_value()` refuses them instead of sending base64."""
    try:
        return msgspec.to_builtins(value, builtin_types=_NOT_JSON)
    except (TypeError, ValueError, OverflowError) as exc:
        raise fail(field, f"holds a value that is not JSON ({exc})") from None


def _wire_keys(field: str, value: dict[Any, Any], cls: type[msgspec.Struct]) -> Any:
    """The dict with camelCase keys; snake_case ones renamed; unknown ones refused."""
    names = _field_names(cls)
    types = _TYPES[cls]
    out: dict[str, Any] = {}
    for key, item in value.items():
        wire = names.get(key) if isinstance(key, str) else None
        if wire is None:
            known = ", ".join(sorted(set(names.values())))
            raise fail(f"{field}.{key}", f"is not a field of {cls.__name__} (known: {known})")
        child = types[wire]
        if child is not None and type(item) is dict:
            item = _wire_keys(f"{field}.{wire}", item, child)
        out[wire] = item
    return out


_NAMES: dict[type[Any], dict[str, str]] = {}
_TYPES: dict[type[Any], dict[str, Any]] = {}


def _field_names(cls: type[msgspec.Struct]) -> dict[str, str]:
    """Python and wire names of ``cls``'s fields, both mapped to the wire name."""
    if cls not in _NAMES:
        fields = msgspec.structs.fields(cls)
        _NAMES[cls] = {
            **{f.name: f.encode_name for f in fields},
            **{f.encode_name: f.encode_name for f in fields},
        }
        _TYPES[cls] = {f.encode_name: _struct_of(f.type) for f in fields}
    return _NAMES[cls]


def _struct_of(annotation: Any) -> Any:
    """The Struct class in ``X | None``, else None."""
    for option in getattr(annotation, "__args__", (annotation,)):
        if isinstance(option, type) and issubclass(option, msgspec.Struct):
            return option
    return None


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


def fields_of(field: str, value: object, cls: type[M]) -> M:
    """`request_model()` without the rules across fields (the batch files word those)."""
    return request_model(field, value, cls, whole=False)

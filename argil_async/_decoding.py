"""Response decoding: one msgspec decoder per type, built on first use and kept."""

from __future__ import annotations

import operator
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

import msgspec

from .errors import ResponseValidationError
from .models._base import FoldsCreateAt, fold_create_at

__all__ = ["DECODE_ERRORS", "create_at_of", "decode", "encode", "invalid_body", "list_decoder"]

T = TypeVar("T")
encode = msgspec.json.Encoder().encode
_CREATE_AT = b'"createAt"'
create_at_of = operator.attrgetter("create_at_")

# How a decoded value is checked for the docs' ``createAt`` spelling (then folded into
# ``created_at`` by fold_create_at): never per item in Python, and the body is scanned only for
# shapes not listed here.
_NO_FOLD, _ONE, _MANY, _WRAPPED, _SCAN = range(5)


@cache
def _decoder(cls: Any) -> tuple[msgspec.json.Decoder[Any], int, Any]:
    """The decoder for ``cls`` and how its results are checked for ``createAt``."""
    return (msgspec.json.Decoder(cls), *_fold_plan(cls))


def _fold_plan(cls: Any) -> tuple[int, Any]:
    """A model that folds (``_ONE``), a list of them (``_MANY``), a struct whose one folding
    field is such a list (``_WRAPPED``, with its getter), nothing that folds, or else a scan."""
    if _folds(cls):
        return _ONE, None
    if get_origin(cls) is list and _folds(get_args(cls)[0]):
        return _MANY, None
    if not _contains_folding(cls, set()):
        return _NO_FOLD, None
    if isinstance(cls, type) and issubclass(cls, msgspec.Struct):
        hints = get_type_hints(cls)
        folding = [n for n in cls.__struct_fields__ if _contains_folding(hints[n], set())]
        if len(folding) == 1:
            kind = hints[folding[0]]
            if get_origin(kind) is list and _folds(get_args(kind)[0]):
                return _WRAPPED, operator.attrgetter(folding[0])
    return _SCAN, None


def _folds(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, FoldsCreateAt)


def _contains_folding(kind: Any, seen: set[Any]) -> bool:
    """Whether values of type ``kind`` can hold a model that folds createAt."""
    if _folds(kind):
        return True
    if kind in seen:
        return False
    seen.add(kind)
    if any(_contains_folding(arg, seen) for arg in get_args(kind)):
        return True
    if isinstance(kind, type) and issubclass(kind, msgspec.Struct):
        return any(_contains_folding(t, seen) for t in get_type_hints(kind).values())
    return False


#: What a decoder raises on a body it cannot decode (each becomes a ResponseValidationError).
DECODE_ERRORS = (msgspec.MsgspecError, RecursionError, MemoryError, UnicodeError)


def invalid_body(cls: Any, body: bytes, exc: BaseException) -> ResponseValidationError:
    """The error for a ``body`` that could not be decoded as ``cls`` (``exc`` says why)."""
    name = getattr(cls, "__name__", str(cls))
    reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
    return ResponseValidationError(
        f"could not decode the response as {name}: {reason or type(exc).__name__}", body=body
    )


def list_decoder(cls: type[T]) -> Callable[[bytes], list[T]]:
    """``decode(list[cls], body)``'s decoder, for a caller that inlines `decode()`'s usual
    path: it then maps `DECODE_ERRORS` with `invalid_body()` and, if any item's
    ``create_at_`` is set, calls ``fold_create_at`` itself."""
    return msgspec.json.Decoder(list[cls]).decode  # type: ignore[valid-type]


def decode(cls: type[T], body: bytes) -> T:
    """Decode a response body as ``cls``; anything undecodable is a ResponseValidationError.

    That includes JSON nested deeper than the interpreter's stack allows (RecursionError) and
    a body too big to materialise (MemoryError): a hostile server must not escape untyped.
    A body holding the docs' ``createAt`` spelling has it folded into ``created_at``.
    """
    decoder, fold, field = _decoder(cls)  # type: ignore[arg-type]  # (no cast() call)
    try:
        result: T = decoder.decode(body)
    except DECODE_ERRORS as exc:
        raise invalid_body(cls, body, exc) from exc
    if fold and (  # the docs' other spelling: found without a Python call per item
        (fold == _MANY and any(map(create_at_of, result)))  # type: ignore[call-overload]
        or (fold == _ONE and result.create_at_ is not None)  # type: ignore[attr-defined]
        or (fold == _WRAPPED and any(map(create_at_of, field(result))))
        or (fold == _SCAN and _CREATE_AT in body)
    ):
        fold_create_at(result)
    return result

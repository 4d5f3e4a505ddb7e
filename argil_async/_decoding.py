"""Response decoding: one msgspec decoder per type, built on first use and kept."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

import msgspec

from .errors import ResponseValidationError
from .models._base import fold_create_at

__all__ = ["decode", "encode"]

T = TypeVar("T")
encode = msgspec.json.Encoder().encode
_CREATE_AT = b'"createAt"'


@cache
def _decoder(cls: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(cls)


def decode(cls: type[T], body: bytes) -> T:
    """Decode a response body as ``cls``; anything undecodable is a ResponseValidationError.

    That includes JSON nested deeper than the interpreter's stack allows (RecursionError) and
    a body too big to materialise (MemoryError): a hostile server must not escape untyped.
    A body holding the docs' ``createAt`` spelling has it folded into ``created_at``.
    """
    try:
        result: T = _decoder(cls).decode(body)  # type: ignore[arg-type]  # (no cast() call)
    except (msgspec.MsgspecError, RecursionError, MemoryError, UnicodeError) as exc:
        name = getattr(cls, "__name__", str(cls))
        reason = "JSON nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ResponseValidationError(
            f"could not decode the response as {name}: {reason or type(exc).__name__}",
            body=body,
        ) from exc
    if _CREATE_AT in body:  # the docs' other spelling: folded once per body, never per item
        fold_create_at(result)
    return result

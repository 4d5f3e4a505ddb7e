"""Response decoding: one msgspec decoder per type, built on first use and kept."""

from __future__ import annotations

from collections.abc import Hashable
from functools import cache
from typing import Any, TypeVar, cast

import msgspec

from .errors import ResponseValidationError

__all__ = ["decode", "encode"]

T = TypeVar("T")
encode = msgspec.json.Encoder().encode


@cache
def _decoder(cls: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(cls)


def decode(cls: type[T], body: bytes) -> T:
    """Decode a response body as ``cls``; anything undecodable is a ResponseValidationError."""
    try:
        result: T = _decoder(cast(Hashable, cls)).decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        name = getattr(cls, "__name__", str(cls))
        raise ResponseValidationError(
            f"could not decode the response as {name}: {exc}", body=body
        ) from exc
    return result

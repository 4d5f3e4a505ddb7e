"""Base classes for the API's objects: lenient response models and validated request pieces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ..errors import InvalidRequestError

__all__ = ["RequestModel", "ResponseModel", "check_range"]


class ResponseModel(msgspec.Struct, rename="camel", kw_only=True, frozen=True, gc=False):
    """An object the API returns: unknown fields are ignored, enum-like fields stay open strings.

    Decoded from JSON, these objects can never form reference cycles, so they are not tracked
    by the garbage collector (``gc=False``): a page of 100 assets then costs no GC passes.
    """

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-ready builtins with the API's camelCase keys."""
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result


class CreatedAtFallback(ResponseModel, frozen=True, kw_only=True):
    """Accepts the docs' ``createAt`` spelling where the schema says ``createdAt``."""

    created_at: datetime | None = None
    create_at_: datetime | None = msgspec.field(default=None, name="createAt")

    def __post_init__(self) -> None:
        if self.created_at is None and self.create_at_ is not None:
            msgspec.structs.force_setattr(self, "created_at", self.create_at_)

    def to_dict(self) -> dict[str, Any]:
        """The object with camelCase keys; the ``createAt`` spelling is folded into createdAt."""
        result = super().to_dict()
        result.pop("createAt", None)
        return result


class RequestModel(msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True):
    """A piece of a request body: only the fields the caller set are sent.

    A field the API requires but that has a natural default (``Subtitles.enable``) defaults to
    None and is filled in by ``__post_init__``, so that ``omit_defaults`` still sends it.
    """


def check_range(field: str, value: float | None, low: float, high: float) -> None:
    """Raise InvalidRequestError unless ``low <= value <= high`` (None passes)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InvalidRequestError(field, f"must be a number, got {value!r}")
    if value is not None and not low <= value <= high:
        raise InvalidRequestError(field, f"must be between {low:g} and {high:g}, got {value!r}")

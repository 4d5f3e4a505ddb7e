"""Base classes for the API's objects: lenient response models and validated request pieces."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

__all__ = ["RequestModel", "ResponseModel"]


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
    Rules across fields live in :meth:`check`, run when a request is built (the model may be
    assembled step by step before that).
    """

    def check(self) -> None:
        """Raise InvalidRequestError (naming the field) if the model breaks a cross-field rule."""

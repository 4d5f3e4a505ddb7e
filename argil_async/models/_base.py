"""Base classes for the API's objects: lenient response models and validated request pieces."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import msgspec

__all__ = ["RequestModel", "ResponseModel", "fold_create_at"]


class _PydanticSerializer:
    """``__pydantic_serializer__``, built on first use: pydantic is imported only by its users.

    pydantic serializes a value typed ``Any`` (FastAPI endpoints returning ``dict`` or
    ``dict[str, Any]``, ``list[Any]``) by looking for this attribute on the value; without it a
    model there is a ``PydanticSerializationError``. It dumps the model as ``to_dict()``.
    """

    def __init__(self) -> None:
        self._built: dict[type, Any] = {}

    def __get__(self, instance: object, owner: type) -> Any:
        serializer = self._built.get(owner)
        if serializer is None:
            from pydantic_core import SchemaSerializer, core_schema

            dump = core_schema.plain_serializer_function_ser_schema(_to_dict)
            serializer = SchemaSerializer(core_schema.any_schema(serialization=dump))
            self._built[owner] = serializer
        return serializer


def _to_dict(model: ResponseModel) -> dict[str, Any]:
    return model.to_dict()


class ResponseModel(msgspec.Struct, rename="camel", kw_only=True, frozen=True, gc=False):
    """An object the API returns: unknown fields are ignored, enum-like fields stay open strings.

    Decoded from JSON, these objects can never form reference cycles, so they are not tracked
    by the garbage collector (``gc=False``): a page of 100 assets then costs no GC passes.

    In web frameworks they serialize as the API's JSON: ``dict(video)`` equals
    ``video.to_dict()`` (FastAPI's encoder uses that for unannotated endpoints), and pydantic
    (FastAPI's ``-> Video`` annotations, ``response_model``) is told how to validate, dump
    and describe them, also inside a ``dict[str, Any]`` or a plain ``dict`` return type.
    """

    __pydantic_serializer__: ClassVar[_PydanticSerializer] = _PydanticSerializer()

    def to_dict(self, *, case: Literal["camel", "snake"] = "camel") -> dict[str, Any]:
        """The object as JSON-ready builtins: the API's camelCase keys, or snake_case ones.

        Example: ``asset.to_dict(case="snake")["file_url"]``.
        """
        if case == "snake":
            return _snake(self)  # type: ignore[no-any-return]
        result: dict[str, Any] = msgspec.to_builtins(self)
        return result

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        """``(key, value)`` pairs of `to_dict()`, so ``dict(model)`` is the API's JSON."""
        return iter(self.to_dict().items())

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        """Let pydantic (FastAPI) accept these models and dump them as the API's JSON."""
        from pydantic_core import core_schema

        def validate(value: Any) -> Any:
            if isinstance(value, cls):
                return value
            model = msgspec.convert(value, cls)
            fold_create_at(model)
            return model

        return core_schema.no_info_plain_validator_function(
            validate,
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda model: model.to_dict()
            ),
        )

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: Any, handler: Any) -> dict[str, Any]:
        """The model's JSON Schema (for OpenAPI documents), from msgspec, references inlined."""
        generated = msgspec.json.schema(cls)
        return _inline(generated, generated.get("$defs", {}))  # type: ignore[no-any-return]


def _snake(value: Any) -> Any:
    """Builtins with the Python attribute names (snake_case) instead of the wire names."""
    if isinstance(value, msgspec.Struct):
        fields = msgspec.structs.fields(value)
        return {f.name: _snake(getattr(value, f.name)) for f in fields if not f.name.endswith("_")}
    if isinstance(value, (list, tuple)):
        return [_snake(item) for item in value]
    if isinstance(value, dict):
        return {key: _snake(item) for key, item in value.items()}
    return msgspec.to_builtins(value)


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    """Replace ``{"$ref": "#/$defs/X"}`` by X's schema (the models have no cycles)."""
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            return _inline(defs[ref.removeprefix("#/$defs/")], defs)
        return {k: _inline(v, defs) for k, v in schema.items() if k != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


class FoldsCreateAt(ResponseModel, frozen=True, kw_only=True):
    """Reads the docs' ``createAt`` spelling into ``created_at``; subclasses declare both
    fields (``create_at_`` named ``createAt`` on the wire), where they fit in the repr.

    The fold costs nothing per decoded item: `fold_create_at()` runs once per response
    body, and only when the body holds ``createAt`` at all (``_decoding.decode`` checks).
    """

    if TYPE_CHECKING:  # declared by each subclass, in its own field order
        created_at: datetime | None
        create_at_: datetime | None

    def __repr__(self) -> str:
        """The usual repr, without the internal ``create_at_`` (it is folded into created_at)."""
        shown = (f"{name}={getattr(self, name)!r}" for name in _shown_fields(type(self)))
        return f"{type(self).__name__}({', '.join(shown)})"

    def to_dict(self, *, case: Literal["camel", "snake"] = "camel") -> dict[str, Any]:
        """The object's keys (see ResponseModel); ``createAt`` is folded into createdAt."""
        result = super().to_dict(case=case)
        result.pop("createAt", None)
        result.pop("create_at_", None)
        return result


def _shown_fields(cls: type[msgspec.Struct]) -> tuple[str, ...]:
    return tuple(name for name in cls.__struct_fields__ if name != "create_at_")


def _fold_one(model: FoldsCreateAt) -> None:
    if model.create_at_ is not None and model.created_at is None:
        msgspec.structs.force_setattr(model, "created_at", model.create_at_)


def fold_create_at(value: Any) -> None:
    """Fold ``createAt`` into ``created_at`` (when that is unset) in every model ``value``
    holds: a model, a list of them, or an envelope around one. Not on the common path: it
    runs only for bodies that contain ``createAt``."""
    if isinstance(value, msgspec.Struct):
        if isinstance(value, FoldsCreateAt):
            _fold_one(value)
        for name in value.__struct_fields__:
            fold_create_at(getattr(value, name))
    elif isinstance(value, (list, tuple)):
        for item in value:
            fold_create_at(item)
    elif isinstance(value, dict):
        for item in value.values():
            fold_create_at(item)


class CreatedAtFallback(FoldsCreateAt, frozen=True, kw_only=True):
    """Accepts the docs' ``createAt`` spelling where the schema says ``createdAt``."""

    created_at: datetime | None = None
    create_at_: datetime | None = msgspec.field(default=None, name="createAt")


class RequestModel(
    msgspec.Struct, rename="camel", kw_only=True, omit_defaults=True, forbid_unknown_fields=True
):
    """A piece of a request body: only the fields the caller set are sent; an unknown field
    is refused when one is decoded or converted (a job file's typo is never dropped silently).

    A field the API requires but that has a natural default (``Subtitles.enable``) defaults to
    None and is filled in by ``__post_init__``, so that ``omit_defaults`` still sends it.
    Rules across fields live in `check()`, run when a request is built (the model may be
    assembled step by step before that).
    """

    def check(self) -> None:
        """Raise InvalidRequestError (naming the field) if the model breaks a cross-field rule."""

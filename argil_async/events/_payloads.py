"""Event payloads and [`parse_event()`][argil_async.events.parse_event] (exported as
``argil_async.events``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

import msgspec

from argil_async.errors import ResponseValidationError

__all__ = [
    "AvatarEvent",
    "AvatarTrainingFailed",
    "AvatarTrainingSucceeded",
    "Event",
    "UnknownEvent",
    "VideoEvent",
    "VideoGenerationFailed",
    "VideoGenerationSucceeded",
    "as_bytes",
    "parse_event",
]


class _VideoEventBase(msgspec.Struct, frozen=True, kw_only=True):
    video_id: str
    video_name: str | None = None
    video_url: str | None = None
    extras: dict[str, str] = msgspec.field(default_factory=dict)
    raw: dict[str, Any] = msgspec.field(default_factory=dict)


_VideoEventT = TypeVar("_VideoEventT", bound=_VideoEventBase)


class _AvatarEventBase(msgspec.Struct, frozen=True, kw_only=True):
    avatar_id: str
    avatar_name: str | None = None
    extras: dict[str, str] = msgspec.field(default_factory=dict)
    raw: dict[str, Any] = msgspec.field(default_factory=dict)


class VideoGenerationSucceeded(_VideoEventBase, frozen=True, kw_only=True):
    """``VIDEO_GENERATION_SUCCESS``: a render finished; ``video_url`` is the final MP4.

    ``extras`` holds the video's extras; ``raw`` the ``data`` object exactly as received.
    """

    event: ClassVar[Literal["VIDEO_GENERATION_SUCCESS"]] = "VIDEO_GENERATION_SUCCESS"


class VideoGenerationFailed(_VideoEventBase, frozen=True, kw_only=True):
    """``VIDEO_GENERATION_FAILED``: a render failed; ``video_url`` is usually None."""

    event: ClassVar[Literal["VIDEO_GENERATION_FAILED"]] = "VIDEO_GENERATION_FAILED"


class AvatarTrainingSucceeded(_AvatarEventBase, frozen=True, kw_only=True):
    """``AVATAR_TRAINING_SUCCESS``: the avatar is IDLE; ``voice_id`` is its (designed) voice."""

    event: ClassVar[Literal["AVATAR_TRAINING_SUCCESS"]] = "AVATAR_TRAINING_SUCCESS"
    voice_id: str | None = None


class AvatarTrainingFailed(_AvatarEventBase, frozen=True, kw_only=True):
    """``AVATAR_TRAINING_FAILED`` (also sent as ``AVATAR_GENERATION_FAILED``): training failed."""

    event: ClassVar[Literal["AVATAR_TRAINING_FAILED"]] = "AVATAR_TRAINING_FAILED"


class UnknownEvent(msgspec.Struct, frozen=True, kw_only=True):
    """An event name this version does not know; ``data`` is the payload as received."""

    event: str
    data: dict[str, Any] = msgspec.field(default_factory=dict)

    @property
    def raw(self) -> dict[str, Any]:
        """The payload as received (the same object as ``data``), like the other events."""
        return self.data


VideoEvent: TypeAlias = VideoGenerationSucceeded | VideoGenerationFailed
AvatarEvent: TypeAlias = AvatarTrainingSucceeded | AvatarTrainingFailed
Event: TypeAlias = (
    VideoGenerationSucceeded
    | VideoGenerationFailed
    | AvatarTrainingSucceeded
    | AvatarTrainingFailed
    | UnknownEvent
)


# Wire shapes: camelCase keys, ``extras`` left untyped so objects, JSON strings and null all pass.
class _Envelope(msgspec.Struct):
    event: str
    data: Any = None


class _VideoData(msgspec.Struct, rename="camel"):
    video_id: str
    video_name: str | None = None
    video_url: str | None = None
    extras: Any = None


class _AvatarData(msgspec.Struct, rename="camel"):
    avatar_id: str
    voice_id: str | None = None
    avatar_name: str | None = None
    extras: Any = None


_ENVELOPE_DECODER = msgspec.json.Decoder(_Envelope)
_ANY_DECODER = msgspec.json.Decoder()
_ANY_ENCODER = msgspec.json.Encoder()


def parse_event(body: bytes | bytearray | memoryview | str | Mapping[str, Any]) -> Event:
    """Parse one webhook delivery (raw body or already-decoded mapping) into an `Event`.

    Tolerant of what Argil's docs leave open: ``extras`` may be an object, a JSON string or
    null; ``AVATAR_GENERATION_FAILED`` means ``AVATAR_TRAINING_FAILED``; unknown fields are
    ignored and unknown event names give [`UnknownEvent`][argil_async.events.UnknownEvent]. Raises
    [`ResponseValidationError`][argil_async.errors.ResponseValidationError] when the body is not a
    JSON object with an ``event`` string, or a known event lacks its id:

    ```python
    event = parse_event(b'{"event": "VIDEO_GENERATION_SUCCESS", "data": {"videoId": "v1"}}')
    assert event.video_id == "v1" and event.extras == {}
    ```
    """
    envelope, raw_body = _decode_envelope(body)
    name = envelope.event.strip().upper()
    data = envelope.data
    if name not in _BUILDERS:
        return UnknownEvent(event=envelope.event, data=data if isinstance(data, dict) else {})
    if not isinstance(data, dict):
        raise ResponseValidationError(f"webhook event {name} has no `data` object", body=raw_body)
    try:
        return _BUILDERS[name](data)
    except (msgspec.ValidationError, msgspec.EncodeError, TypeError, ValueError) as exc:
        # (an already-decoded mapping may hold values JSON cannot carry, such as a set)
        raise ResponseValidationError(
            f"invalid {name} webhook payload: {exc}", body=raw_body
        ) from None


def _decode_envelope(body: object) -> tuple[_Envelope, bytes]:
    """Decode the outer ``{"event", "data"}`` object; return it with the body as bytes."""
    try:
        if isinstance(body, str):  # text with lone surrogates is not JSON (not UTF-8)
            body = body.encode("utf-8", "surrogatepass")
        if isinstance(body, (bytes, bytearray, memoryview)):
            return _ENVELOPE_DECODER.decode(body), as_bytes(body)
        if isinstance(body, Mapping):
            return msgspec.convert(dict(body), _Envelope), b""
    except msgspec.DecodeError as exc:
        raise ResponseValidationError(
            f"webhook body is not valid JSON: {exc}", body=as_bytes(body)
        ) from None
    except msgspec.ValidationError as exc:
        raise ResponseValidationError(
            f"webhook body is not an event envelope: {exc}", body=as_bytes(body)
        ) from None
    raise ResponseValidationError(f"webhook body has unsupported type {type(body).__name__}")


def as_bytes(body: object) -> bytes:
    if isinstance(body, str):
        return body.encode("utf-8", "replace")
    if isinstance(body, (bytes, bytearray, memoryview)):
        return bytes(body)
    return b""


def _normalize_extras(value: Any) -> dict[str, str]:
    """Coerce ``extras`` (object, JSON string, null, or junk) to ``dict[str, str]``.

    Non-string values become their JSON text; null values are dropped; anything that is not an
    object (including a string that is not a JSON object) gives ``{}``, and ``raw`` keeps it.
    """
    if isinstance(value, str):
        try:
            value = _ANY_DECODER.decode(value)
        except msgspec.DecodeError:
            return {}
    if not isinstance(value, dict):
        return {}
    return {
        str(key): item if isinstance(item, str) else _ANY_ENCODER.encode(item).decode()
        for key, item in value.items()
        if item is not None
    }


def _build_video(cls: type[_VideoEventT], data: dict[str, Any]) -> _VideoEventT:
    wire = msgspec.convert(data, _VideoData)
    return cls(
        video_id=wire.video_id,
        video_name=wire.video_name,
        video_url=wire.video_url or None,
        extras=_normalize_extras(wire.extras),
        raw=data,
    )


def _build_video_succeeded(data: dict[str, Any]) -> Event:
    return _build_video(VideoGenerationSucceeded, data)


def _build_video_failed(data: dict[str, Any]) -> Event:
    return _build_video(VideoGenerationFailed, data)


def _build_avatar_succeeded(data: dict[str, Any]) -> Event:
    wire = msgspec.convert(data, _AvatarData)
    return AvatarTrainingSucceeded(
        avatar_id=wire.avatar_id,
        voice_id=wire.voice_id or None,
        avatar_name=wire.avatar_name,
        extras=_normalize_extras(wire.extras),
        raw=data,
    )


def _build_avatar_failed(data: dict[str, Any]) -> Event:
    wire = msgspec.convert(data, _AvatarData)
    return AvatarTrainingFailed(
        avatar_id=wire.avatar_id,
        avatar_name=wire.avatar_name,
        extras=_normalize_extras(wire.extras),
        raw=data,
    )


_BUILDERS = {
    "VIDEO_GENERATION_SUCCESS": _build_video_succeeded,
    "VIDEO_GENERATION_FAILED": _build_video_failed,
    "AVATAR_TRAINING_SUCCESS": _build_avatar_succeeded,
    "AVATAR_TRAINING_FAILED": _build_avatar_failed,
    "AVATAR_GENERATION_FAILED": _build_avatar_failed,
}

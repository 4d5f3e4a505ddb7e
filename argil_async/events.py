"""Argil webhook events: typed payloads, a tolerant parser and a receiver for aiohttp.web.

Argil POSTs ``{"event": NAME, "data": {...}}`` to your callback URL when a render or an avatar
training ends. :func:`parse_event` turns such a body into one of the :data:`Event` types;
:class:`WebhookReceiver` authenticates deliveries (Argil does not sign them, so a secret token
travels in the callback URL's query string), answers quickly and lets you wait for a result::

    from argil_async.events import VideoGenerationSucceeded, WebhookReceiver

    receiver = WebhookReceiver()
    async with receiver.serve(port=8080, public_base_url="https://hooks.example.com") as url:
        await client.videos.render(video.id, callback_url=url)
        event = await receiver.wait_for_video(video.id, timeout=900)
        if isinstance(event, VideoGenerationSucceeded):
            print(event.video_url)

Importing this module does not import ``aiohttp.web`` (the server side); ``WebhookReceiver``
loads it on first access.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeAlias, TypeVar

import msgspec

from argil_async._logfilter import RedactTokenFilter
from argil_async.errors import InvalidRequestError, ResponseValidationError, WebhookSignatureError

if TYPE_CHECKING:
    from argil_async._receiver import WebhookReceiver as WebhookReceiver

__all__ = [
    "AvatarEvent",
    "AvatarTrainingFailed",
    "AvatarTrainingSucceeded",
    "Event",
    "RedactTokenFilter",
    "UnknownEvent",
    "VideoEvent",
    "VideoEventSource",
    "VideoGenerationFailed",
    "VideoGenerationSucceeded",
    "WebhookReceiver",
    "parse_event",
    "verify_signature",
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


class VideoEventSource(Protocol):
    """What ``videos.wait_until_done(receiver=...)`` and ``videos.generate`` listen to.

    :class:`WebhookReceiver` is one; anything else that can wait for a video's event (one fed
    by a message bus shared by all workers, say) can stand in for it.
    """

    async def wait_for_video(self, video_id: str, *, timeout: float | None = None) -> VideoEvent:
        """Return the success or failure event of ``video_id`` once it has arrived."""
        ...


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
    """Parse one webhook delivery (raw body or already-decoded mapping) into an :data:`Event`.

    Tolerant of what Argil's docs leave open: ``extras`` may be an object, a JSON string or
    null; ``AVATAR_GENERATION_FAILED`` means ``AVATAR_TRAINING_FAILED``; unknown fields are
    ignored and unknown event names give :class:`UnknownEvent`. Raises
    :class:`~argil_async.errors.ResponseValidationError` when the body is not a JSON object with
    an ``event`` string, or a known event lacks its id::

        event = parse_event(b'{"event": "VIDEO_GENERATION_SUCCESS", "data": {"videoId": "v1"}}')
        assert event.video_id == "v1" and event.extras == {}
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
    except msgspec.ValidationError as exc:
        raise ResponseValidationError(
            f"invalid {name} webhook payload: {exc}", body=raw_body
        ) from None


def _decode_envelope(body: object) -> tuple[_Envelope, bytes]:
    """Decode the outer ``{"event", "data"}`` object; return it with the body as bytes."""
    try:
        if isinstance(body, (bytes, bytearray, memoryview, str)):
            return _ENVELOPE_DECODER.decode(body), _as_bytes(body)
        if isinstance(body, Mapping):
            return msgspec.convert(dict(body), _Envelope), b""
    except msgspec.DecodeError as exc:
        raise ResponseValidationError(
            f"webhook body is not valid JSON: {exc}", body=_as_bytes(body)
        ) from None
    except msgspec.ValidationError as exc:
        raise ResponseValidationError(
            f"webhook body is not an event envelope: {exc}", body=_as_bytes(body)
        ) from None
    raise ResponseValidationError(f"webhook body has unsupported type {type(body).__name__}")


def _as_bytes(body: object) -> bytes:
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


_TOLERANCE = 300.0  # seconds, both ways (Standard Webhooks)


def verify_signature(
    body: bytes | bytearray | memoryview | str,
    headers: Mapping[str, str],
    secret: str | bytes,
    *,
    tolerance: float = _TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a Standard Webhooks signature; raise :class:`WebhookSignatureError` unless valid.

    Argil signs deliveries to endpoints registered through its newer webhook-endpoints API:
    ``webhook-signature`` lists space-separated ``v1,<base64 HMAC-SHA256>`` of
    ``{webhook-id}.{webhook-timestamp}.{body}``, keyed with the base64 part of the
    ``whsec_...`` secret (a ``bytes`` secret is the raw key). The timestamp must be within
    ``tolerance`` seconds of ``now`` either way, which bounds replays; compare the raw body,
    before any JSON parsing. Header names are matched case-insensitively::

        verify_signature(await request.body(), request.headers, os.environ["WHSEC"])
    """
    fields = {str(name).lower(): value for name, value in headers.items()}
    msg_id = _header(fields, "webhook-id")
    stamp = _header(fields, "webhook-timestamp")
    listed = _header(fields, "webhook-signature")
    if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= 15):
        raise WebhookSignatureError("webhook-timestamp: not a Unix time in seconds")
    skew = (time.time() if now is None else now) - int(stamp)
    if abs(skew) > tolerance:
        raise WebhookSignatureError(f"webhook-timestamp: {skew:+.0f} s from now (stale or early)")
    expected = base64.b64decode(_sign(_as_bytes(body), msg_id, stamp, secret))
    for candidate in listed.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(_b64(value), expected):
            return
    raise WebhookSignatureError("webhook-signature: no v1 signature matches")


def _header(fields: Mapping[str, str], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise WebhookSignatureError(f"{name}: header missing")
    return value


def _b64(text: str) -> bytes:
    """Decoded base64 (padding optional), or b"" when ``text`` is not base64."""
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return b""


def _signing_key(secret: str | bytes) -> bytes:
    """The HMAC key: raw bytes as given, or the base64 text after ``whsec_``."""
    key = secret if isinstance(secret, bytes) else None
    if isinstance(secret, str):
        key = _b64(secret.removeprefix("whsec_"))
    if not key:
        raise InvalidRequestError("secret", "must be a whsec_<base64> signing secret")
    return key


def _sign(body: bytes, msg_id: str, stamp: str, secret: str | bytes) -> str:
    """The base64 v1 signature of one delivery (the simulator signs with it too)."""
    signed = b"%s.%s.%s" % (msg_id.encode("utf-8", "surrogatepass"), stamp.encode(), body)
    digest = hmac.new(_signing_key(secret), signed, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def __getattr__(name: str) -> Any:
    # WebhookReceiver needs aiohttp.web; load it only when someone asks for it.
    if name == "WebhookReceiver":
        from argil_async._exports import rehome
        from argil_async._receiver import WebhookReceiver

        globals()[name] = WebhookReceiver  # loaded once; the next access skips __getattr__
        rehome(__name__, globals())

        return WebhookReceiver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rehome_loaded() -> None:
    """Report ``argil_async.events`` as the module of the classes loaded so far."""
    from argil_async._exports import rehome

    namespace = globals()
    rehome(__name__, {**namespace, "__all__": [n for n in __all__ if n in namespace]})


_rehome_loaded()

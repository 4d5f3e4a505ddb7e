"""The objects the Argil API returns.

Every field but ``id`` is optional, because the docs' examples omit many of them. Status-like
fields are typed with the known values (``Literal`` aliases from ``_enums``) for type checkers,
and are plain strings at run time, so a value the server adds tomorrow still decodes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from ._base import CreatedAtFallback, FoldsCreateAt, ResponseModel
from ._enums import (
    AspectRatio,
    AssetStatus,
    AssetType,
    AvatarModel,
    AvatarOrientation,
    AvatarStatus,
    MomentLayout,
    VideoStatus,
    VoiceGender,
    VoiceLanguage,
    WebhookEvent,
)

__all__ = [
    "Asset",
    "Avatar",
    "Gesture",
    "MomentOut",
    "SubtitleStyle",
    "Video",
    "VideoSubtitles",
    "Voice",
    "Webhook",
]


class Asset(FoldsCreateAt, frozen=True, kw_only=True):
    """A B-roll upload (IMAGE, VIDEO) or a system music track (AUDIO).

    ``status``: PROCESSING, READY or FAILED; ``file_url`` stays None until READY.
    """

    id: str
    name: str | None = None
    type: AssetType | None = None
    status: AssetStatus | None = None
    file_url: str | None = None
    thumbnail_url: str | None = None
    created_at: datetime | None = None
    create_at_: datetime | None = msgspec.field(default=None, name="createAt")


class Gesture(ResponseModel, frozen=True, kw_only=True):
    """A labelled gesture of an avatar; put ``slug`` in ``Moment.gesture_slug``."""

    label: str | None = None
    slug: str | None = None
    start_frame: float | None = None


class Avatar(CreatedAtFallback, frozen=True, kw_only=True):
    """An avatar: ``status`` is NOT_TRAINED, TRAINING, TRAINING_FAILED, IDLE or REFUSED.

    Only IDLE avatars can appear in videos. ``orientation`` is ASPECT_RATIO_16_9 or _9_16.
    """

    id: str
    name: str | None = None
    actor_name: str | None = None
    updated_at: datetime | None = None
    gestures: list[Gesture] | None = None
    status: AvatarStatus | None = None
    width: int | None = None
    height: int | None = None
    thumbnail_url: str | None = None
    cover_image_url: str | None = None
    extras: dict[str, str] | None = None
    orientation: AvatarOrientation | None = None
    model: AvatarModel | None = None
    voice_id: str | None = None


class Voice(CreatedAtFallback, frozen=True, kw_only=True):
    """A voice; ``language`` and ``gender`` may be None."""

    id: str
    name: str | None = None
    updated_at: datetime | None = None
    status: str | None = None
    sample_url: str | None = None
    language: VoiceLanguage | None = None
    gender: VoiceGender | None = None


class MomentOut(ResponseModel, frozen=True, kw_only=True):
    """A moment as the API returns it, with its own render URL once the video is DONE."""

    transcript: str | None = None
    avatar_id: str | None = None
    voice_id: str | None = None
    audio_url: str | None = None
    video_url: str | None = None
    gesture_slug: str | None = None
    zoom: dict[str, Any] | None = None
    broll: dict[str, Any] | None = None
    layout: MomentLayout | None = None


class VideoSubtitles(ResponseModel, frozen=True, kw_only=True):
    """Whether subtitles are enabled on a video."""

    enable: bool | None = None


class Video(FoldsCreateAt, frozen=True, kw_only=True):
    """A video: ``status`` is IDLE, GENERATING_AUDIO, GENERATING_VIDEO, DONE or FAILED.

    CONTENT_MODERATED has been seen in the wild and is treated as a failure. ``video_url`` is
    set once DONE; ``duration`` (seconds) once the audio exists.
    """

    id: str
    name: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    status: VideoStatus | None = None
    duration: float | None = None
    moments: list[MomentOut] | None = None
    video_url: str | None = None
    video_url_subtitled: str | None = None
    preview_url: str | None = None
    aspect_ratio: AspectRatio | None = None
    subtitles: VideoSubtitles | None = None
    extras: dict[str, str] | None = None
    create_at_: datetime | None = msgspec.field(default=None, name="createAt")


class SubtitleStyle(ResponseModel, frozen=True, kw_only=True):
    """A subtitle style; its ``id`` goes in ``Subtitles(style_id=...)``."""

    id: str
    name: str | None = None


class Webhook(CreatedAtFallback, frozen=True, kw_only=True):
    """A registered webhook and the events it receives."""

    id: str
    callback_url: str | None = None
    events: list[WebhookEvent] | None = None
    updated_at: datetime | None = None
    last_triggered_at: datetime | None = None

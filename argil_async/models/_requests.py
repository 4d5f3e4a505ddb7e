"""The pieces of request bodies, validated when they are built.

Each can also be given as a plain dict with the API's camelCase keys, e.g.
``{"avatarId": "...", "transcript": "Hi"}`` for a [`Moment`][argil_async.models.Moment].
"""

from __future__ import annotations

from .._options import RequestOptions
from .._validation import fail, number
from ._base import RequestModel
from ._enums import (
    BrollIntensity,
    BrollLayout,
    BrollSource,
    MomentLayout,
    SubtitlePosition,
    SubtitleSize,
)

__all__ = [
    "AutoBrolls",
    "BackgroundMusic",
    "Broll",
    "Moment",
    "Subtitles",
    "VoiceSettings",
    "Zoom",
]


class VoiceSettings(RequestOptions, total=False):
    """The keywords of ``voices.create`` after ``name`` and ``audio_url``: the documented voice
    settings (sent camelCased: ``voice_speed`` is ``voiceSpeed``) and the request options.

    - ``model_id``: the voice model, e.g. "eleven_v3".
    - ``voice_stability``, ``voice_similarity``, ``voice_style``: 0 to 1.
    - ``voice_speed``: 0.7 to 1.2.
    - ``speaker_boost``: a boolean.
    - ``language_boost``, ``emotion``: strings (models that take them).

    A setting Argil adds before this SDK knows it goes in ``extra_body={"newSetting": ...}``;
    any other keyword is an ``InvalidRequestError`` (and a mypy error), so a typo such as
    ``remove_backgroud_noise=True`` is never sent.
    """

    model_id: str
    voice_stability: float
    voice_similarity: float
    voice_style: float
    voice_speed: float
    speaker_boost: bool
    language_boost: str
    emotion: str


class Zoom(RequestModel, kw_only=True):
    """Avatar or B-roll zoom: ``level`` from 1 (100%) to 2 (200%)."""

    level: float | None = None

    def __post_init__(self) -> None:
        self.level = 1.0 if self.level is None else self.level
        number("level", self.level, low=1, high=2)


class Broll(RequestModel, kw_only=True):
    """B-roll shown over a moment, e.g. ``Broll(asset_id=asset.id)`` for an uploaded asset."""

    type: str | None = None
    asset_id: str | None = None
    zoom: Zoom | None = None

    def __post_init__(self) -> None:
        self.type = self.type or "UPLOAD"


class Moment(RequestModel, kw_only=True):
    """One segment of a video: an avatar saying a transcript (or playing your audio).

    Example: ``Moment(avatar_id=avatar.id, transcript="Hello!", gesture_slug="wave")``.
    """

    avatar_id: str
    transcript: str | None = None
    audio_url: str | None = None
    voice_id: str | None = None
    gesture_slug: str | None = None
    zoom: Zoom | None = None
    broll: Broll | None = None
    layout: MomentLayout | None = None

    def check(self) -> None:
        """Exactly one of ``transcript`` and ``audio_url`` (the API's rule)."""
        if (self.transcript is None) == (self.audio_url is None):
            raise fail("transcript", "give exactly one of transcript and audio_url")


class Subtitles(RequestModel, kw_only=True):
    """Burned-in subtitles: ``position`` Top/Middle/Bottom, ``size`` Small/Medium/Large."""

    enable: bool | None = None
    style_id: str | None = None
    position: SubtitlePosition | None = None
    size: SubtitleSize | None = None

    def __post_init__(self) -> None:
        self.enable = True if self.enable is None else self.enable


class AutoBrolls(RequestModel, kw_only=True):
    """Automatic B-roll: ``source`` GENERATION, GOOGLE_IMAGES, STOCKS_VIDEO or AVATAR_ACTION."""

    source: BrollSource
    intensity: BrollIntensity | None = None
    enable: bool | None = None
    layout: BrollLayout | None = None

    def __post_init__(self) -> None:
        self.enable = True if self.enable is None else self.enable
        if self.intensity is None and self.source != "AVATAR_ACTION":
            self.intensity = "MEDIUM"  # required by the API, except for AVATAR_ACTION


class BackgroundMusic(RequestModel, kw_only=True):
    """Background music from an AUDIO asset; ``volume`` from 0 to 1 (server default 0.14)."""

    asset_id: str
    volume: float | None = None

    def __post_init__(self) -> None:
        if self.volume is not None:
            number("volume", self.volume, low=0, high=1)

"""The API's enumerations, as ``Literal`` types: mypy and editors know the values.

They are ``Literal`` for type checkers only; at run time each is ``Annotated[str, ...]``, so a
value the API adds tomorrow still passes (and decodes) without a new release. Arguments are
checked (``avatars.list(visibility="publik")`` is a mypy error) and response fields offer the
known values (``video.status == "DONE"``; a comparison with a value not listed is a mypy error
under ``--strict-equality``). A value Argil adds later still decodes: the attribute then holds
a string its ``Literal`` does not list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, TypeAlias

__all__ = [
    "AspectRatio",
    "AssetStatus",
    "AssetType",
    "AvatarModel",
    "AvatarOrientation",
    "AvatarStatus",
    "BrollIntensity",
    "BrollLayout",
    "BrollSource",
    "MomentLayout",
    "SubtitleFormat",
    "SubtitlePosition",
    "SubtitleSize",
    "UploadType",
    "VideoStatus",
    "Visibility",
    "VoiceGender",
    "VoiceLanguage",
    "WebhookEvent",
]

if TYPE_CHECKING:
    _LAYOUTS_N8N: TypeAlias = Literal[  # what Argil's n8n node sends (argil-api.md, quirk 11)
        "NORMAL", "BOTTOM_LEFT", "BOTTOM_RIGHT", "SPLIT_LEFT", "SPLIT_RIGHT", "SPLIT_TOP",
        "SPLIT_BOTTOM", "BACKGROUND",
    ]  # fmt: skip
    AspectRatio: TypeAlias = Literal["16:9", "9:16"]
    AssetStatus: TypeAlias = Literal["PROCESSING", "READY", "FAILED"]
    AssetType: TypeAlias = Literal["AUDIO", "IMAGE", "VIDEO"]
    UploadType: TypeAlias = Literal["IMAGE", "VIDEO"]
    AvatarModel: TypeAlias = Literal["ARGIL_V1", "ARGIL_ATOM"]
    AvatarOrientation: TypeAlias = Literal["ASPECT_RATIO_16_9", "ASPECT_RATIO_9_16"]
    AvatarStatus: TypeAlias = Literal[
        "NOT_TRAINED", "TRAINING", "TRAINING_FAILED", "IDLE", "REFUSED"
    ]
    VideoStatus: TypeAlias = Literal[  # CONTENT_MODERATED and REFUSED: seen, not documented
        "IDLE", "GENERATING_AUDIO", "GENERATING_VIDEO", "DONE", "FAILED", "CONTENT_MODERATED",
        "REFUSED",
    ]  # fmt: skip
    Visibility: TypeAlias = Literal["public", "private"]
    VoiceGender: TypeAlias = Literal["MALE", "FEMALE"]
    VoiceLanguage: TypeAlias = Literal[
        "ENGLISH", "SPANISH", "FRENCH", "PORTUGUESE", "BRAZILIAN_PORTUGUESE", "GERMAN",
        "RUSSIAN", "HINDI", "CHINESE", "DUTCH", "ARABIC",
    ]  # fmt: skip
    SubtitleFormat: TypeAlias = Literal["vtt", "ass"]
    SubtitlePosition: TypeAlias = Literal["Top", "Middle", "Bottom"]
    SubtitleSize: TypeAlias = Literal["Small", "Medium", "Large"]
    BrollSource: TypeAlias = Literal["GENERATION", "GOOGLE_IMAGES", "STOCKS_VIDEO", "AVATAR_ACTION"]
    BrollIntensity: TypeAlias = Literal["LOW", "MEDIUM", "HIGH"]
    _LAYOUTS_DOC: TypeAlias = Literal[
        "FULLSCREEN", "AVATAR_BOTTOM_LEFT", "AVATAR_BOTTOM_RIGHT", "AVATAR_TOP_LEFT",
        "AVATAR_TOP_RIGHT", "SPLIT_AVATAR_LEFT", "SPLIT_AVATAR_RIGHT", "SPLIT_AVATAR_TOP",
        "SPLIT_AVATAR_BOTTOM", "BACKGROUND",
    ]  # fmt: skip
    BrollLayout: TypeAlias = _LAYOUTS_DOC | _LAYOUTS_N8N
    MomentLayout: TypeAlias = _LAYOUTS_DOC | _LAYOUTS_N8N  # both vocabularies are seen
    WebhookEvent: TypeAlias = Literal[
        "AVATAR_TRAINING_SUCCESS", "AVATAR_TRAINING_FAILED",
        "VIDEO_GENERATION_SUCCESS", "VIDEO_GENERATION_FAILED",
    ]  # fmt: skip
else:  # open at run time (a plain string to msgspec): a value the API adds must still pass
    AspectRatio = Annotated[str, "AspectRatio"]
    AssetStatus = Annotated[str, "AssetStatus"]
    AssetType = Annotated[str, "AssetType"]
    UploadType = Annotated[str, "UploadType"]
    AvatarModel = Annotated[str, "AvatarModel"]
    AvatarOrientation = Annotated[str, "AvatarOrientation"]
    AvatarStatus = Annotated[str, "AvatarStatus"]
    VideoStatus = Annotated[str, "VideoStatus"]
    Visibility = Annotated[str, "Visibility"]
    VoiceGender = Annotated[str, "VoiceGender"]
    VoiceLanguage = Annotated[str, "VoiceLanguage"]
    SubtitleFormat = Annotated[str, "SubtitleFormat"]
    SubtitlePosition = Annotated[str, "SubtitlePosition"]
    SubtitleSize = Annotated[str, "SubtitleSize"]
    BrollSource = Annotated[str, "BrollSource"]
    BrollIntensity = Annotated[str, "BrollIntensity"]
    BrollLayout = Annotated[str, "BrollLayout"]
    MomentLayout = Annotated[str, "MomentLayout"]
    WebhookEvent = Annotated[str, "WebhookEvent"]

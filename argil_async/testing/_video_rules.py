"""Validation of POST /videos, per argil-openapi.yaml and argil-api.md section 3.5.

Strict where the docs are precise (moments, zoom, subtitles, extras, referenced resources exist
and are usable) and tolerant where real clients are known to differ: ``type: "moments"``, the n8n
layout vocabulary, ``Centered`` as an alias of ``Middle``, ``strict_moments=False``.
"""

from __future__ import annotations

from typing import Any

from ._checks import (
    check_bool,
    check_enum,
    check_extras,
    check_number,
    check_str,
    check_url,
    join,
    reject_unknown,
    require_key,
    require_object,
    require_str,
)
from ._config import SimulatorConfig
from ._http import bad_request
from ._records import SimAvatar, SimVideo
from ._state import WorkspaceState

MOMENT_KEYS = (
    "transcript",
    "avatarId",
    "voiceId",
    "gestureSlug",
    "audioUrl",
    "zoom",
    "broll",
    "layout",
)
TRANSCRIPT_LIMIT = 500
DOC_LAYOUTS = (
    "FULLSCREEN", "AVATAR_BOTTOM_LEFT", "AVATAR_BOTTOM_RIGHT", "AVATAR_TOP_LEFT",
    "AVATAR_TOP_RIGHT", "SPLIT_AVATAR_LEFT", "SPLIT_AVATAR_RIGHT", "SPLIT_AVATAR_TOP",
    "SPLIT_AVATAR_BOTTOM", "BACKGROUND",
)  # fmt: skip
N8N_LAYOUTS = (
    "NORMAL", "BOTTOM_LEFT", "BOTTOM_RIGHT", "SPLIT_LEFT", "SPLIT_RIGHT", "SPLIT_TOP",
    "SPLIT_BOTTOM", "BACKGROUND",
)  # fmt: skip
LAYOUTS = tuple(dict.fromkeys(DOC_LAYOUTS + N8N_LAYOUTS))
SOURCES = ("GENERATION", "GOOGLE_IMAGES", "STOCKS_VIDEO", "AVATAR_ACTION")
INTENSITIES = ("LOW", "MEDIUM", "HIGH")
POSITIONS = ("Top", "Middle", "Bottom", "Centered")
SIZES = ("Small", "Medium", "Large")
ASPECTS = {"ASPECT_RATIO_16_9": "16:9", "ASPECT_RATIO_9_16": "9:16"}


def build_video(body: dict[str, Any], state: WorkspaceState, config: SimulatorConfig) -> SimVideo:
    """A new IDLE video from a valid body, or a 400 naming the first broken rule."""
    name = require_str(body, "name")
    if body.get("type", "moments") != "moments":
        raise bad_request("type: only 'moments' is supported (transcript/articleToVideo are not)")
    moments_in = require_key(body, "moments")
    if not isinstance(moments_in, list) or not moments_in:
        raise bad_request("moments: must be a non-empty array")
    moments = [
        _moment(raw, f"moments[{i}]", state, config.strict_moments)
        for i, raw in enumerate(moments_in)
    ]
    first_avatar = state.avatars[moments[0]["avatarId"]]
    video = SimVideo(
        name=name,
        moments=moments,
        aspect_ratio=_optional_enum(body, "aspectRatio", ("16:9", "9:16"))
        or ASPECTS[first_avatar.orientation],
        model=_optional_enum(body, "model", ("ARGIL_V1", "ARGIL_ATOM")) or first_avatar.model,
    )
    if "subtitles" in body:
        video.subtitles = _subtitles(body["subtitles"], state)
    if "extras" in body:
        video.extras = check_extras(body["extras"], "extras", config.max_extras)
    video.options = _options(body, state)
    return video


def _optional_enum(body: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str | None:
    """An optional top-level enum field."""
    return check_enum(body[key], allowed, key) if key in body else None


def _moment(raw: Any, where: str, state: WorkspaceState, strict: bool) -> dict[str, Any]:
    """One moment, echoed back with ``voiceId`` defaulted to the avatar's voice."""
    moment = dict(require_object(raw, where))
    reject_unknown(moment, MOMENT_KEYS, where)
    avatar = _idle_avatar(moment, where, state)
    _check_speech(moment, where, strict)
    if "voiceId" in moment:
        voice_id = check_str(moment["voiceId"], join(where, "voiceId"))
        if voice_id not in state.voices:
            raise bad_request(f"{where}.voiceId: voice {voice_id} not found")
    elif avatar.voice_id is not None:
        moment["voiceId"] = avatar.voice_id
    if "gestureSlug" in moment:
        _check_gesture(moment["gestureSlug"], avatar, where)
    if "zoom" in moment:
        _check_zoom(moment["zoom"], join(where, "zoom"))
    if "broll" in moment:
        _check_broll(moment["broll"], join(where, "broll"), state)
    if "layout" in moment:
        check_enum(moment["layout"], LAYOUTS, join(where, "layout"))
    return moment


def _idle_avatar(moment: dict[str, Any], where: str, state: WorkspaceState) -> SimAvatar:
    """The moment's avatar, which must exist and be IDLE."""
    avatar_id = require_str(moment, "avatarId", where)
    avatar = state.avatars.get(avatar_id)
    if avatar is None:
        raise bad_request(f"{where}.avatarId: avatar {avatar_id} not found")
    if avatar.status != "IDLE":
        raise bad_request(f"{where}.avatarId: avatar {avatar_id} is {avatar.status}, must be IDLE")
    return avatar


def _check_speech(moment: dict[str, Any], where: str, strict: bool) -> None:
    """Exactly one of transcript (<= 500 chars) and audioUrl; at least one when relaxed."""
    given = [key for key in ("transcript", "audioUrl") if key in moment]
    if not given or (strict and len(given) == 2):
        raise bad_request(f"{where}: exactly one of transcript or audioUrl is required")
    if "transcript" in moment:
        check_str(moment["transcript"], join(where, "transcript"), max_len=TRANSCRIPT_LIMIT)
    if "audioUrl" in moment:
        check_url(moment["audioUrl"], join(where, "audioUrl"))


def _check_gesture(value: Any, avatar: SimAvatar, where: str) -> None:
    """A slug among the avatar's gestures."""
    slugs = [gesture["slug"] for gesture in avatar.gestures]
    if value not in slugs:
        available = ", ".join(slugs) or "none"
        raise bad_request(
            f"{where}.gestureSlug: not a gesture of avatar {avatar.id} (available: {available})"
        )


def _check_zoom(value: Any, where: str) -> None:
    """``{level}`` with level in [1, 2] and nothing else."""
    zoom = require_object(value, where)
    reject_unknown(zoom, ("level",), where)
    check_number(require_key(zoom, "level", where), join(where, "level"), 1, 2)


def _check_broll(value: Any, where: str, state: WorkspaceState) -> None:
    """An UPLOAD b-roll must name a READY image or video asset; other types pass loosely."""
    broll = require_object(value, where)
    if broll.get("type") != "UPLOAD":
        return
    asset_id = require_str(broll, "assetId", where)
    asset = state.assets.get(asset_id)
    if asset is None:
        raise bad_request(f"{where}.assetId: asset {asset_id} not found")
    if asset.type not in ("IMAGE", "VIDEO"):
        raise bad_request(
            f"{where}.assetId: asset {asset_id} is {asset.type}, must be IMAGE or VIDEO"
        )
    if asset.status != "READY":
        raise bad_request(f"{where}.assetId: asset {asset_id} is {asset.status}, must be READY")


def _subtitles(value: Any, state: WorkspaceState) -> dict[str, Any]:
    """``{enable, styleId?, position?, size?}``; ``Centered`` is stored as ``Middle``."""
    subtitles = dict(require_object(value, "subtitles"))
    reject_unknown(subtitles, ("enable", "styleId", "position", "size"), "subtitles")
    check_bool(require_key(subtitles, "enable", "subtitles"), "subtitles.enable")
    if "styleId" in subtitles:
        style_id = check_str(subtitles["styleId"], "subtitles.styleId")
        if style_id not in state.subtitle_styles:
            raise bad_request(f"subtitles.styleId: subtitle style {style_id} not found")
    if "position" in subtitles:
        position = check_enum(subtitles["position"], POSITIONS, "subtitles.position")
        subtitles["position"] = "Middle" if position == "Centered" else position
    if "size" in subtitles:
        check_enum(subtitles["size"], SIZES, "subtitles.size")
    return subtitles


def _options(body: dict[str, Any], state: WorkspaceState) -> dict[str, Any]:
    """The accepted optional settings that do not change the simulated render."""
    options: dict[str, Any] = {}
    if "enableAutoBrolls" in body:
        options["enableAutoBrolls"] = check_bool(body["enableAutoBrolls"], "enableAutoBrolls")
    if "autoBrolls" in body:
        options["autoBrolls"] = _auto_brolls(body["autoBrolls"])
    if "backgroundMusic" in body:
        options["backgroundMusic"] = _background_music(body["backgroundMusic"], state)
    return options


def _auto_brolls(value: Any) -> dict[str, Any]:
    """``{enable, source, intensity, layout?}``; intensity is optional for AVATAR_ACTION."""
    auto = require_object(value, "autoBrolls")
    check_bool(require_key(auto, "enable", "autoBrolls"), "autoBrolls.enable")
    source = check_enum(require_key(auto, "source", "autoBrolls"), SOURCES, "autoBrolls.source")
    if "intensity" in auto or source != "AVATAR_ACTION":
        intensity = require_key(auto, "intensity", "autoBrolls")
        check_enum(intensity, INTENSITIES, "autoBrolls.intensity")
    if "layout" in auto:
        check_enum(auto["layout"], LAYOUTS, "autoBrolls.layout")
    return dict(auto)


def _background_music(value: Any, state: WorkspaceState) -> dict[str, Any]:
    """``{assetId, volume?}``: an existing AUDIO asset and a volume in [0, 1]."""
    music = require_object(value, "backgroundMusic")
    asset_id = require_str(music, "assetId", "backgroundMusic")
    asset = state.assets.get(asset_id)
    if asset is None:
        raise bad_request(f"backgroundMusic.assetId: asset {asset_id} not found")
    if asset.type != "AUDIO":
        raise bad_request(
            f"backgroundMusic.assetId: asset {asset_id} is {asset.type}, must be AUDIO"
        )
    if "volume" in music:
        check_number(music["volume"], "backgroundMusic.volume", 0, 1)
    return dict(music)

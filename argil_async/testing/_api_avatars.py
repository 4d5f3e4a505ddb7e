"""Avatars and voices: list/get with filters, image and (deprecated) video avatar creation,
voice cloning. No delete exists for either; the router answers 405 for DELETE /avatars/{id}.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .._images import decode_data_uri, image_problem
from ._checks import (
    check_bool,
    check_extras,
    check_number,
    check_str,
    check_url,
    join,
    optional_callback_url,
    reject_unknown,
    require_key,
    require_object,
    require_str,
)
from ._http import bad_request, enum_param, json_response, not_found, read_json_object
from ._lifecycle import train_avatar
from ._records import SimAvatar, SimVoice
from ._runtime import RUNTIME, Runtime

ORIENTATIONS = ("ASPECT_RATIO_16_9", "ASPECT_RATIO_9_16")
MODELS = ("ARGIL_V1", "ARGIL_ATOM")
LANGUAGES = (
    "ENGLISH", "SPANISH", "FRENCH", "PORTUGUESE", "BRAZILIAN_PORTUGUESE", "GERMAN",
    "RUSSIAN", "HINDI", "CHINESE", "DUTCH", "ARABIC",
)  # fmt: skip
GENDERS = ("MALE", "FEMALE")
_VOICE_RANGES = {
    "voiceStability": (0.0, 1.0),
    "voiceSimilarity": (0.0, 1.0),
    "voiceStyle": (0.0, 1.0),
    "voiceSpeed": (0.7, 1.2),
}


async def list_avatars(request: web.Request) -> web.Response:
    """A bare array, filtered by orientation, model and visibility."""
    rt = request.app[RUNTIME]
    wanted = {
        "orientation": enum_param(request.query, "orientation", ORIENTATIONS),
        "model": enum_param(request.query, "model", MODELS),
        "visibility": enum_param(request.query, "visibility", ("public", "private")),
    }
    present = rt.presenter(request)
    body = [
        present.avatar(avatar)
        for avatar in rt.state.avatars.values()
        if all(value is None or getattr(avatar, key) == value for key, value in wanted.items())
    ]
    return json_response(body)


async def get_avatar(request: web.Request) -> web.Response:
    """One avatar, or 404."""
    rt = request.app[RUNTIME]
    avatar = rt.state.avatars.get(request.match_info["id"])
    if avatar is None:
        raise not_found("Avatar", request.match_info["id"])
    return json_response(rt.presenter(request).avatar(avatar))


async def create_avatar(request: web.Request) -> web.Response:
    """201: an IMAGE avatar starts TRAINING; a deprecated video-dataset one starts NOT_TRAINED."""
    rt = request.app[RUNTIME]
    body = await read_json_object(request)
    video_mode = "datasetVideo" in body or body.get("type") == "VIDEO"
    avatar = _video_avatar(body, rt) if video_mode else _image_avatar(body, rt)
    rt.state.avatars[avatar.id] = avatar
    rt.ledger.created["avatars"] += 1
    rt.spawn(train_avatar(rt, avatar))
    return json_response(rt.presenter(request).avatar(avatar), status=201)


def _image_avatar(body: dict[str, Any], rt: Runtime) -> SimAvatar:
    """Validate AvatarCreateArgsImage and build the TRAINING avatar."""
    reject_unknown(body, ("type", "name", "datasetImage", "voiceId", "callbackUrl", "extras"))
    if body.get("type") != "IMAGE":
        raise bad_request(
            "type: must be IMAGE (or send datasetVideo for the deprecated video mode)"
        )
    name = require_str(body, "name", max_len=256)
    _check_dataset_image(require_key(body, "datasetImage"))
    voice_id = None
    if "voiceId" in body:
        voice_id = check_str(body["voiceId"], "voiceId")
        if voice_id not in rt.state.voices:
            raise bad_request(f"voiceId: voice {voice_id} not found")
    callback_url = optional_callback_url(
        body, allow_loopback_http=rt.config.allow_loopback_http_callbacks
    )
    extras = _extras(body, rt)
    return SimAvatar(
        name=name, status="TRAINING", voice_id=voice_id, extras=extras, callback_url=callback_url
    )


def _check_dataset_image(value: Any) -> None:
    """Exactly one of an https ``url`` or a base64 image data URI."""
    image = require_object(value, "datasetImage")
    if len(image) != 1 or not set(image) <= {"url", "base64"}:
        raise bad_request("datasetImage: must have exactly one of url or base64")
    if "url" in image:
        check_url(image["url"], "datasetImage.url", https_only=True)
        return
    data = decode_data_uri(check_str(image["base64"], "datasetImage.base64"))
    if data is None:
        raise bad_request(
            "datasetImage.base64: must be a data URI data:image/(png|jpeg|jpg|webp);base64,..."
            " holding valid base64"
        )
    problem = image_problem(data)
    if problem is not None:
        raise bad_request(f"datasetImage.base64: the image {problem}")


def _video_avatar(body: dict[str, Any], rt: Runtime) -> SimAvatar:
    """Validate the deprecated ``{name, datasetVideo, consentVideo, extras?}`` body."""
    reject_unknown(body, ("type", "name", "datasetVideo", "consentVideo", "extras"))
    if body.get("type", "VIDEO") != "VIDEO":
        raise bad_request("type: must be VIDEO or absent for a video-dataset avatar")
    name = require_str(body, "name", max_len=256)
    for key in ("datasetVideo", "consentVideo"):
        video = require_object(require_key(body, key), key)
        reject_unknown(video, ("url",), key)
        check_url(video.get("url"), join(key, "url"), https_only=True)
    extras = _extras(body, rt)
    return SimAvatar(name=name, status="NOT_TRAINED", model="ARGIL_V1", extras=extras)


def _extras(body: dict[str, Any], rt: Runtime) -> dict[str, str]:
    """The optional ``extras``, limited to ``config.max_extras`` keys."""
    if "extras" not in body:
        return {}
    return check_extras(body["extras"], "extras", rt.config.max_extras)


async def list_voices(request: web.Request) -> web.Response:
    """A bare array, filtered by language and gender."""
    rt = request.app[RUNTIME]
    language = enum_param(request.query, "language", LANGUAGES)
    gender = enum_param(request.query, "gender", GENDERS)
    present = rt.presenter(request)
    body = [
        present.voice(voice)
        for voice in rt.state.voices.values()
        if (language is None or voice.language == language)
        and (gender is None or voice.gender == gender)
    ]
    return json_response(body)


async def get_voice(request: web.Request) -> web.Response:
    """One voice, or 404."""
    rt = request.app[RUNTIME]
    voice = rt.state.voices.get(request.match_info["id"])
    if voice is None:
        raise not_found("Voice", request.match_info["id"])
    return json_response(rt.presenter(request).voice(voice))


async def create_voice(request: web.Request) -> web.Response:
    """201 with a voice that is IDLE (usable) at once, as documented."""
    rt = request.app[RUNTIME]
    body = await read_json_object(request)
    name = require_str(body, "name", max_len=256)
    check_url(body.get("audioUrl"), "audioUrl", https_only=True)
    _check_voice_settings(body)
    voice = SimVoice(name=name)
    rt.state.voices[voice.id] = voice
    rt.ledger.created["voices"] += 1
    return json_response(rt.presenter(request).voice(voice), status=201)


def _check_voice_settings(body: dict[str, Any]) -> None:
    """The optional per-model settings: numeric ranges, a boolean and free-form strings."""
    for key, (low, high) in _VOICE_RANGES.items():
        if key in body:
            check_number(body[key], key, low, high)
    if "speakerBoost" in body:
        check_bool(body["speakerBoost"], "speakerBoost")
    for key in ("modelId", "languageBoost", "emotion"):
        if key in body:
            check_str(body[key], key)

"""Timed state machines: asset processing, avatar training and video rendering.

Each runs as a tracked background task (``Runtime.spawn``). Outcomes are deterministic: markers in
the input pick a failure (see the package docstring), otherwise everything succeeds. A resource
deleted meanwhile simply stops its machine.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from ._delivery import dispatch_event
from ._records import SimAsset, SimAvatar, SimVideo, SimVoice, utc_now
from ._runtime import Runtime
from ._state import mark_asset_ready

log = logging.getLogger("argil_async.testing")

AVATAR_FAILURES = ("TRAINING_FAILED", "REFUSED")
VIDEO_FAILURES = ("FAILED", "CONTENT_MODERATED")


def moment_duration(moment: dict[str, Any]) -> float:
    """Seconds of speech for a moment: 15 characters a second, 5 s for supplied audio."""
    transcript = moment.get("transcript")
    if isinstance(transcript, str):
        return round(max(1.0, len(transcript) / 15.0), 2)
    return 5.0


async def process_asset(rt: Runtime, asset: SimAsset) -> None:
    """PROCESSING -> READY, or FAILED when the url carries ``sim_outcome=FAILED``."""
    await asyncio.sleep(rt.config.asset_processing_time)
    if rt.state.assets.get(asset.id) is not asset:
        return
    if "sim_outcome=FAILED" in (asset.source_url or ""):
        asset.status = "FAILED"
    else:
        mark_asset_ready(asset)


async def train_avatar(rt: Runtime, avatar: SimAvatar) -> None:
    """(NOT_TRAINED ->) TRAINING -> IDLE, or the failure named by ``extras["simOutcome"]``."""
    seconds = rt.config.avatar_training_time
    if avatar.status == "NOT_TRAINED":
        await asyncio.sleep(seconds / 2)
        _set_status(avatar, "TRAINING")
        seconds /= 2
    await asyncio.sleep(seconds)
    if rt.state.avatars.get(avatar.id) is not avatar:
        return
    outcome = avatar.extras.get("simOutcome")
    if outcome in AVATAR_FAILURES:
        _set_status(avatar, outcome)
        data = {"avatarId": avatar.id, "avatarName": avatar.name, "extras": dict(avatar.extras)}
        dispatch_event(rt, "AVATAR_TRAINING_FAILED", data, avatar.callback_url)
        return
    if avatar.voice_id is None:
        avatar.voice_id = _design_voice(rt, avatar)
    _set_status(avatar, "IDLE")
    data = {
        "avatarId": avatar.id,
        "voiceId": avatar.voice_id,
        "avatarName": avatar.name,
        "extras": dict(avatar.extras),
    }
    dispatch_event(rt, "AVATAR_TRAINING_SUCCESS", data, avatar.callback_url)


def _design_voice(rt: Runtime, avatar: SimAvatar) -> str:
    """The voice Argil "designs" from the image when the avatar was created without one."""
    voice = SimVoice(name=f"{avatar.name} (designed voice)")
    rt.state.voices[voice.id] = voice
    return voice.id


async def render_video(rt: Runtime, video: SimVideo, callback_url: str | None) -> None:
    """GENERATING_AUDIO -> GENERATING_VIDEO -> DONE or a failure, then notify."""
    await asyncio.sleep(rt.config.render_audio_time)
    if rt.state.videos.get(video.id) is not video:
        return
    _finish_audio(video)
    await asyncio.sleep(rt.config.render_video_time)
    if rt.state.videos.get(video.id) is not video:
        return
    status = _final_status(rt, video)
    if status == "DONE":
        _attach_renders(video)
    _set_status(video, status)
    event = "VIDEO_GENERATION_SUCCESS" if status == "DONE" else "VIDEO_GENERATION_FAILED"
    data = {
        "videoId": video.id,
        "videoName": video.name,
        "videoUrl": rt.presenter().url(video.video_path),
        "extras": dict(video.extras),
    }
    dispatch_event(rt, event, data, callback_url)


def _finish_audio(video: SimVideo) -> None:
    """The audio exists: duration is known and every moment has an audioUrl."""
    for index, moment in enumerate(video.moments):
        moment.setdefault("audioUrl", f"/files/audio/{video.id}.{index}.mp3")
    video.duration = round(sum(moment_duration(m) for m in video.moments), 2)
    _set_status(video, "GENERATING_VIDEO")


def _final_status(rt: Runtime, video: SimVideo) -> str:
    """The status a render ends in: the config hook, else ``extras["simOutcome"]``, else DONE."""
    hook = rt.config.video_outcome
    if hook is not None:
        try:
            return hook(rt.presenter().video(video))
        except Exception:
            log.exception("video_outcome hook failed; the video ends FAILED")
            return "FAILED"
    outcome = video.extras.get("simOutcome")
    return outcome if outcome in VIDEO_FAILURES else "DONE"


def _attach_renders(video: SimVideo) -> None:
    """Point the video, its subtitled twin and each moment at the simulator's file routes."""
    video.video_path = f"/files/videos/{video.id}.mp4"
    if video.subtitles.get("enable"):
        video.subtitled_path = f"/files/videos/{video.id}.subtitled.mp4"
    for index, moment in enumerate(video.moments):
        moment["videoUrl"] = f"/files/videos/{video.id}.moment-{index}.mp4"


def _set_status(resource: SimAvatar | SimVideo, status: str) -> None:
    """Change a status and bump ``updated_at``."""
    resource.status = status
    resource.updated_at = utc_now()

"""Records to API JSON: the only place that knows the wire names.

Fields documented as nullable are always present (``duration``, ``fileUrl``, ...); fields the spec
types as plain strings (``videoUrl``, ``lastTriggeredAt``) are left out until they have a value, so
every response validates against the OpenAPI document. ``created_at_key`` lets a test switch to
the quirky ``createAt`` spelling some doc examples use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._records import SimAsset, SimAvatar, SimSubtitleStyle, SimVideo, SimVoice, SimWebhook


@dataclass(frozen=True)
class Presenter:
    """Renders records for one response: ``origin`` prefixes file paths ("http://host:port")."""

    origin: str
    created_at_key: str = "createdAt"

    def url(self, path: str | None) -> str | None:
        """An absolute URL for a simulator-relative path; other values pass through."""
        if path is None or not path.startswith("/"):
            return path
        return self.origin + path

    def asset(self, asset: SimAsset) -> dict[str, Any]:
        """Asset JSON; ``fileUrl`` and ``thumbnailUrl`` are null until READY."""
        return {
            "id": asset.id,
            "name": asset.name,
            "type": asset.type,
            "status": asset.status,
            "fileUrl": self.url(asset.file_path),
            "thumbnailUrl": self.url(asset.thumbnail_path),
            self.created_at_key: asset.created_at,
        }

    def avatar(self, avatar: SimAvatar) -> dict[str, Any]:
        """Avatar JSON, with the optional ``voiceId`` the training webhook also reports."""
        body: dict[str, Any] = {
            "id": avatar.id,
            "name": avatar.name,
            "actorName": avatar.actor_name,
            self.created_at_key: avatar.created_at,
            "updatedAt": avatar.updated_at,
            "gestures": [dict(g) for g in avatar.gestures],
            "status": avatar.status,
            "width": avatar.width,
            "height": avatar.height,
            "thumbnailUrl": self.url(f"/files/avatars/{avatar.id}.jpg"),
            "coverImageUrl": self.url(f"/files/avatars/{avatar.id}-cover.jpg"),
            "extras": dict(avatar.extras),
            "orientation": avatar.orientation,
            "model": avatar.model,
        }
        if avatar.voice_id is not None:
            body["voiceId"] = avatar.voice_id
        return body

    def voice(self, voice: SimVoice) -> dict[str, Any]:
        """Voice JSON; ``language`` and ``gender`` may be null."""
        return {
            "id": voice.id,
            "name": voice.name,
            self.created_at_key: voice.created_at,
            "updatedAt": voice.updated_at,
            "status": voice.status,
            "sampleUrl": self.url(f"/files/voices/{voice.id}.mp3"),
            "language": voice.language,
            "gender": voice.gender,
        }

    def video(self, video: SimVideo) -> dict[str, Any]:
        """Video JSON; the render URLs appear once the video is DONE."""
        body: dict[str, Any] = {
            "id": video.id,
            "name": video.name,
            self.created_at_key: video.created_at,
            "updatedAt": video.updated_at,
            "status": video.status,
            "duration": video.duration,
            "moments": [self._moment(m) for m in video.moments],
            "previewUrl": self.url(f"/files/previews/{video.id}"),
            "aspectRatio": video.aspect_ratio,
            "subtitles": dict(video.subtitles),
            "extras": dict(video.extras),
        }
        for key, path in (
            ("videoUrl", video.video_path),
            ("videoUrlSubtitled", video.subtitled_path),
        ):
            if path is not None:
                body[key] = self.url(path)
        return body

    def _moment(self, moment: dict[str, Any]) -> dict[str, Any]:
        """A moment as stored, with the audio and render paths the simulator set made absolute."""
        out = dict(moment)
        for key in ("audioUrl", "videoUrl"):
            if key in out:
                out[key] = self.url(out[key])
        return out

    def webhook(self, webhook: SimWebhook) -> dict[str, Any]:
        """Webhook JSON; ``lastTriggeredAt`` is absent before the first delivery."""
        body: dict[str, Any] = {
            "id": webhook.id,
            "callbackUrl": webhook.callback_url,
            "events": list(webhook.events),
            self.created_at_key: webhook.created_at,
            "updatedAt": webhook.updated_at,
        }
        if webhook.last_triggered_at is not None:
            body["lastTriggeredAt"] = webhook.last_triggered_at
        return body

    @staticmethod
    def subtitle_style(style: SimSubtitleStyle) -> dict[str, Any]:
        """SubtitleStyle JSON: just id and name, as documented."""
        return {"id": style.id, "name": style.name}

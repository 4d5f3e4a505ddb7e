"""``client.voices``: the voices that speak the moments, and cloning new ones."""

from __future__ import annotations

from typing import Any

from .._decoding import decode
from ..errors import InvalidRequestError
from ..models import Voice
from ..models._base import check_range
from ._base import Resource, check_name, check_url, path_id, query

__all__ = ["AsyncVoicesResource"]

_SETTING_RANGES = {
    "voice_stability": (0.0, 1.0),
    "voice_similarity": (0.0, 1.0),
    "voice_style": (0.0, 1.0),
    "voice_speed": (0.7, 1.2),
}


class AsyncVoicesResource(Resource):
    """Voices: list, fetch, and clone one from an audio file."""

    __slots__ = ()

    async def get(self, id: str) -> Voice:
        """Fetch one voice."""
        voice, _ = await self._client._get(f"/voices/{path_id('id', id)}", Voice)
        return voice

    async def list(self, *, language: str | None = None, gender: str | None = None) -> list[Voice]:
        """All voices (not paginated), optionally filtered, e.g. ``language="FRENCH"``."""
        voices, _ = await self._client._get(
            "/voices", list[Voice], query(language=language, gender=gender)
        )
        return voices

    async def create(self, *, name: str, audio_url: str, **settings: Any) -> Voice:
        """Clone a voice from an https audio file; usable at once.

        ``settings`` are the model options in snake_case, e.g. ``model_id="eleven_v3"``,
        ``voice_stability=0.5``, ``voice_speed=1.1``, ``speaker_boost=True``.
        """
        body: dict[str, Any] = {
            "name": check_name("name", name),
            "audioUrl": check_url("audio_url", audio_url, https_only=True),
        }
        for key, value in settings.items():
            if not key.isidentifier() or not key.islower():
                raise InvalidRequestError(key, "voice settings are snake_case keyword arguments")
            if key in _SETTING_RANGES:
                check_range(key, value, *_SETTING_RANGES[key])
            body[_camel(key)] = value
        response = await self._client._request("POST", "/voices", body=body)
        return decode(Voice, response.body)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)

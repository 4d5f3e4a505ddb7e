"""``client.voices``: the voices that speak the moments, and cloning new ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from typing_extensions import Unpack

from .. import _validation as check
from .._decoding import decode
from .._options import RequestOptions, split_options
from .._raw import RawMethod, RawResponseView
from ..models import Voice, VoiceGender, VoiceLanguage, VoiceSettings
from ._base import Resource

__all__ = ["AsyncVoicesResource"]

Rule = Callable[[str, object], object]
_SETTING_RULES: dict[str, Rule] = {
    "model_id": check.text,
    "voice_stability": lambda key, value: check.number(key, value, low=0, high=1),
    "voice_similarity": lambda key, value: check.number(key, value, low=0, high=1),
    "voice_style": lambda key, value: check.number(key, value, low=0, high=1),
    "voice_speed": lambda key, value: check.number(key, value, low=0.7, high=1.2),
    "speaker_boost": check.boolean,
    "language_boost": check.text,
    "emotion": check.text,
}


class AsyncVoicesResource(Resource):
    """Voices: list, fetch, and clone one from an audio file."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> AsyncVoicesResourceWithRawResponse:
        """The same methods, each returning a ``RawResponse`` (status, headers, request id).

        Example: ``raw = await client.voices.with_raw_response.get(...)``, then
        ``raw.status_code``, ``raw.request_id`` and ``raw.parse()``.
        """
        return AsyncVoicesResourceWithRawResponse(self)

    async def get(self, id: str, **options: Unpack[RequestOptions]) -> Voice:
        """Fetch one voice."""
        path = f"/voices/{check.path_id('id', id)}"
        voice, _ = await self._client._get(path, Voice, options=options)
        return voice

    async def list(
        self,
        *,
        language: VoiceLanguage | None = None,
        gender: VoiceGender | None = None,
        **options: Unpack[RequestOptions],
    ) -> list[Voice]:
        """All voices (not paginated), optionally filtered, e.g. ``language="FRENCH"``."""
        voices, _ = await self._client._get(
            "/voices",
            list[Voice],
            check.query(
                language=check.query_value("language", language),
                gender=check.query_value("gender", gender),
            ),
            options,
        )
        return voices

    async def create(
        self, *, name: str, audio_url: str, **settings: Unpack[VoiceSettings]
    ) -> Voice:
        """Clone a voice from an https audio file; usable at once.

        ``settings`` are the documented model settings in snake_case (``VoiceSettings``), e.g.
        ``model_id="eleven_v3"``, ``voice_stability=0.5``, ``voice_speed=1.1``,
        ``speaker_boost=True``, sent camelCased, and the request options (``timeout``,
        ``max_retries``, ``extra_*``). A setting this SDK does not know yet goes in
        ``extra_body={"newSetting": ...}``; any other keyword is refused, so a typo is never sent.
        """
        given: dict[str, Any] = dict(settings)
        options = split_options(given)
        body: dict[str, Any] = {
            "name": check.name("name", name),
            "audioUrl": check.media_url("audio_url", audio_url),
        }
        for key, value in given.items():
            rule = _SETTING_RULES.get(key)
            if rule is None:
                known = ", ".join(sorted(_SETTING_RULES))
                raise check.fail(
                    key,
                    f"is not a voice setting ({known}); send others in extra_body={{...}}",
                )
            body[_camel(key)] = rule(key, value)
        response = await self._client._request("POST", "/voices", body=body, options=options)
        return decode(Voice, response.body)


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


class AsyncVoicesResourceWithRawResponse(RawResponseView):
    """``client.voices.with_raw_response``: each method returns a ``RawResponse``."""

    __slots__ = ()

    get: Final = RawMethod(AsyncVoicesResource.get)
    list: Final = RawMethod(AsyncVoicesResource.list)
    create: Final = RawMethod(AsyncVoicesResource.create)

"""``client.subtitles``: subtitle styles, and exporting a video's subtitles as a file."""

from __future__ import annotations

import msgspec

from .._decoding import decode
from .._pagination import AsyncPaginator, Envelope, Page
from ..errors import InvalidRequestError
from ..models import SubtitleStyle
from ._base import Resource, check_page_size, path_id, query

__all__ = ["AsyncSubtitlesResource"]


class _StylePage(Envelope):
    items: list[SubtitleStyle] = msgspec.field(default_factory=list)


class AsyncSubtitlesResource(Resource):
    """Subtitle styles (for ``Subtitles(style_id=...)``) and subtitle export."""

    __slots__ = ()

    def list(self, *, page_size: int | None = None) -> AsyncPaginator[SubtitleStyle]:
        """Iterate over the subtitle styles."""
        check_page_size(page_size)

        async def fetch(page: int) -> Page[SubtitleStyle]:
            params = query(page=page, pageSize=page_size)
            response = await self._client._request("GET", "/subtitles", params=params)
            body = decode(_StylePage, response.body)
            return body.page_of(body.items, page, page_size or 10)

        return AsyncPaginator(fetch)

    async def export(
        self, video_id: str, *, format: str = "vtt", include_styling: bool = False
    ) -> str:
        """A rendered video's subtitles as WebVTT (``format="vtt"``) or ASS (``"ass"``) text."""
        if format not in ("vtt", "ass"):
            raise InvalidRequestError("format", f'must be "vtt" or "ass", got {format!r}')
        response = await self._client._request(
            "GET",
            f"/subtitles/videos/{path_id('video_id', video_id)}/export",
            params=query(format=format, includeStyling=include_styling),
        )
        return response.body.decode("utf-8-sig", "replace")

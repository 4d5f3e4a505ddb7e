"""``client.subtitles``: subtitle styles, and exporting a video's subtitles as a file."""

from __future__ import annotations

from typing import Final

import msgspec
from typing_extensions import Unpack

from .. import _validation as check
from .._decoding import decode
from .._options import RequestOptions, check_options
from .._pagination import AsyncPaginator, Envelope, Page
from .._raw import RawMethod, RawResponseView
from ..models import SubtitleFormat, SubtitleStyle
from ._base import Resource

__all__ = ["AsyncSubtitlesResource"]


class _StylePage(Envelope):
    items: list[SubtitleStyle] = msgspec.field(default_factory=list)


class AsyncSubtitlesResource(Resource):
    """Subtitle styles (for ``Subtitles(style_id=...)``) and subtitle export."""

    __slots__ = ()

    @property
    def with_raw_response(self) -> AsyncSubtitlesResourceWithRawResponse:
        """The same methods, each returning a ``RawResponse`` (status, headers, request id).

        Example: ``raw = await client.subtitles.with_raw_response.export(...)``, then
        ``raw.status_code``, ``raw.request_id`` and ``raw.parse()``.
        """
        return AsyncSubtitlesResourceWithRawResponse(self)

    def list(
        self, *, page_size: int | None = None, **options: Unpack[RequestOptions]
    ) -> AsyncPaginator[SubtitleStyle]:
        """Iterate over the subtitle styles (the options go with every page's request)."""
        check.page_size(page_size)
        if options:
            check_options(options)

        async def fetch(page: int) -> Page[SubtitleStyle]:
            params = check.query(page=page, pageSize=page_size)
            response = await self._client._request(
                "GET", "/subtitles", params=params, options=options
            )
            body = decode(_StylePage, response.body)
            return body.page_of(body.items, page, page_size or 10)

        return AsyncPaginator(fetch)

    async def export(
        self,
        video_id: str,
        *,
        format: SubtitleFormat = "vtt",
        include_styling: bool = False,
        **options: Unpack[RequestOptions],
    ) -> str:
        """A rendered video's subtitles as WebVTT (``format="vtt"``) or ASS (``"ass"``) text."""
        wire_format = check.enum("format", format)
        styling = check.boolean("include_styling", include_styling)
        response = await self._client._request(
            "GET",
            f"/subtitles/videos/{check.path_id('video_id', video_id)}/export",
            params=check.query(format=wire_format, includeStyling=styling),
            options=options,
        )
        return response.body.decode("utf-8-sig", "replace")


class AsyncSubtitlesResourceWithRawResponse(RawResponseView):
    """``client.subtitles.with_raw_response``: each method returns a ``RawResponse``."""

    __slots__ = ()

    export: Final = RawMethod(AsyncSubtitlesResource.export)

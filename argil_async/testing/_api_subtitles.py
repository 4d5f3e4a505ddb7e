"""GET /subtitles (the ``items`` envelope) and the VTT/ASS export of a video's subtitles."""

from __future__ import annotations

import uuid

from aiohttp import web

from ._http import (
    bad_request,
    enum_param,
    int_param,
    json_response,
    not_found,
    page_count,
    page_slice,
)
from ._lifecycle import moment_duration
from ._present import Presenter
from ._records import SimVideo
from ._runtime import RUNTIME

_ASS_STYLES = (
    "[V4+ Styles]\n"
    "Format: Name, Fontname, Fontsize, PrimaryColour, Bold, Alignment\n"
    "Style: Default,Arial,48,&H00FFFFFF,1,2\n\n"
)


async def list_subtitle_styles(request: web.Request) -> web.Response:
    """Paginated by ``page``/``pageSize`` (default 10, at most 100)."""
    rt = request.app[RUNTIME]
    page = int_param(request.query, "page", 1)
    size = int_param(request.query, "pageSize", 10, high=100)
    styles = list(rt.state.subtitle_styles.values())
    return json_response(
        {
            "items": [Presenter.subtitle_style(s) for s in page_slice(styles, page, size)],
            "totalItems": len(styles),
            "totalPages": page_count(len(styles), size),
            "currentPage": page,
            "itemsPerPage": size,
        }
    )


async def export_subtitles(request: web.Request) -> web.Response:
    """The subtitle file as text; 400 for a bad id or format and while the video is IDLE."""
    rt = request.app[RUNTIME]
    video_id = request.match_info["videoProjectId"]
    try:
        uuid.UUID(video_id)
    except ValueError:
        raise bad_request("videoProjectId: must be a uuid") from None
    format_ = enum_param(request.query, "format", ("vtt", "ass")) or "vtt"
    styling = enum_param(request.query, "includeStyling", ("true", "false")) == "true"
    video = rt.state.videos.get(video_id)
    if video is None:
        raise not_found("Video", video_id)
    if video.status == "IDLE":
        raise bad_request("videoProjectId: the video is IDLE; render it before exporting subtitles")
    text = _vtt(video) if format_ == "vtt" else _ass(video, styling)
    return web.Response(
        text=text,
        content_type="text/vtt" if format_ == "vtt" else "text/x-ass",
        headers={"Content-Disposition": f"attachment; filename={video.id}.{format_}"},
    )


def _cues(video: SimVideo) -> list[tuple[int, int, str]]:
    """(start ms, end ms, text) per moment, back to back; audio-only moments have no words.

    Whole milliseconds, so summing durations cannot drift to 59.999... s ("00:00:60.000").
    """
    cues, start = [], 0
    for moment in video.moments:
        end = start + round(moment_duration(moment) * 1000)
        text = " ".join(str(moment.get("transcript", "[audio]")).split())  # one line per cue
        cues.append((start, end, text))
        start = end
    return cues


def _clock(ms: int, *, ass: bool = False) -> str:
    """``00:00:02.500`` for VTT, ``0:00:02.50`` for ASS."""
    seconds, ms = divmod(ms, 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    if ass:
        return f"{hours}:{minutes:02d}:{seconds:02d}.{ms // 10:02d}"
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{ms:03d}"


def _vtt(video: SimVideo) -> str:
    """A WebVTT document, one cue per moment; ``&``, ``<`` and ``>`` escaped as the format asks."""
    lines = ["WEBVTT", ""]
    for start, end, text in _cues(video):
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lines += [f"{_clock(start)} --> {_clock(end)}", escaped, ""]
    return "\n".join(lines)


def _ass(video: SimVideo, styling: bool) -> str:
    """A minimal ASS document; the style section only with ``includeStyling=true``."""
    header = f"[Script Info]\nTitle: {' '.join(video.name.split())}\nScriptType: v4.00+\n\n"
    events = ["[Events]", "Format: Layer, Start, End, Style, Text"]
    for start, end, text in _cues(video):
        events.append(
            f"Dialogue: 0,{_clock(start, ass=True)},{_clock(end, ass=True)},Default,{text}"
        )
    return header + (_ASS_STYLES if styling else "") + "\n".join(events) + "\n"

"""The MCP server behind ``argil mcp``: the SDK's calls as tools an agent can use.

Every tool answers JSON text (or the subtitles' text) and reports a failure as an MCP tool
error carrying the SDK's message; the API key is never in a result, an error or a log line
(the SDK masks it in its errors, and every text leaving a tool is scrubbed again).

Paid tools (``render_video``, ``make_video``) are estimated first with the batch estimator
(``argil_async.batch.estimate_cost``) and charged against the server's budget
(``--max-credits``); a call that would go past it is refused with the estimate and what is
left. A ``make_video`` ``idempotency_key``, or a video id given to ``render_video``, is
charged once: the SDK resumes the same video on a repeat and never renders a video twice.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, ParamSpec

import msgspec
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from typing_extensions import NotRequired, TypedDict

from .. import APIStatusError, ArgilError, AsyncArgil, Video, WaitTimeoutError
from .. import _validation as check
from ..batch import Job, estimate_cost
from ._session import api_session

__all__ = ["Budget", "ServerOptions", "build_server", "serve"]

P = ParamSpec("P")
MAX_WAIT = 600.0  # seconds one call may wait for a render
MAX_TRANSCRIPT = 250  # characters per moment when a script is split (the API's older limit)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

INSTRUCTIONS = """Make Argil AI-avatar videos. Free: list_avatars, list_voices, list_videos,
get_video, create_video (a video from moments or a script, not rendered), estimate_video,
wait_for_video, export_subtitles, upload_asset. Paid: render_video and make_video (create,
render and wait) cost credits and are refused unless the server was started with
--max-credits; each is estimated first and refused past the budget. Give make_video an
idempotency_key of your own and reuse it to retry: the same key never pays twice."""


class MomentArg(TypedDict):
    """One segment of a video: an avatar saying a transcript (or playing an audio URL)."""

    avatarId: str
    transcript: NotRequired[str]
    audioUrl: NotRequired[str]
    voiceId: NotRequired[str]
    gestureSlug: NotRequired[str]


AspectRatioArg = Literal["16:9", "9:16"]


@dataclass
class ServerOptions:
    """How ``argil mcp`` was started."""

    http: bool = False
    port: int = 8000
    max_credits: float | None = None
    simulate: bool = False


@dataclass
class Budget:
    """The credits paid tools may spend for the server's lifetime; each reference pays once."""

    limit: float | None
    spent: float = 0.0
    charged: dict[str, int] = field(default_factory=dict)

    @property
    def left(self) -> float:
        """Credits still allowed (0 when paid tools are off)."""
        return 0.0 if self.limit is None else max(self.limit - self.spent, 0.0)

    def charge(self, reference: str, estimate: int) -> bool:
        """Reserve ``estimate`` for ``reference`` (False: already charged); ToolError if refused."""
        if self.limit is None:
            raise ToolError(
                f"refused: paid tools are off (this video is estimated at {estimate} credits). "
                "Start the server with --max-credits N to allow spending up to N credits."
            )
        if reference in self.charged:
            return False
        if estimate > self.left:
            raise ToolError(
                f"refused: this video is estimated at {estimate} credits and only "
                f"{self.left:g} of the session's {self.limit:g} credits are left (--max-credits)."
            )
        self.spent += estimate
        self.charged[reference] = estimate
        return True

    def refund(self, reference: str) -> None:
        """Give back a reservation whose call certainly paid nothing."""
        self.spent -= self.charged.pop(reference, 0)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, for results."""
        return {"max_credits": self.limit, "spent": self.spent, "left": self.left}


@dataclass
class _State:
    client: AsyncArgil
    budget: Budget
    secret: str


def build_server(client: AsyncArgil, budget: Budget, api_key: str) -> MCPServer[Any]:
    """The MCP server: every tool on ``client``, paid ones charged to ``budget``."""
    state = _State(client, budget, api_key)
    server: MCPServer[Any] = MCPServer("argil", instructions=INSTRUCTIONS, log_level="WARNING")
    tool = _registrar(server, state)

    @tool
    async def list_avatars() -> str:
        """The workspace's avatars (id, name, status, model, voiceId, gestures)."""
        return _json(await client.avatars.list())

    @tool
    async def list_voices() -> str:
        """The workspace's voices (id, name, language, gender)."""
        return _json(await client.voices.list())

    @tool
    async def list_videos(limit: int = 20) -> str:
        """The newest videos, at most ``limit`` (1 to 100)."""
        check.integer("limit", limit, low=1, high=100)
        found: list[Video] = []
        async for video in client.videos.list(page_size=min(limit, 100)):
            found.append(video)
            if len(found) >= limit:
                break
        return _json(found)

    @tool
    async def get_video(video_id: str) -> str:
        """One video: its status (IDLE, GENERATING_AUDIO, GENERATING_VIDEO, DONE, FAILED),
        and its videoUrl once DONE."""
        return _json(await client.videos.get(video_id))

    @tool
    async def create_video(
        name: str,
        moments: list[MomentArg] | None = None,
        script: str | None = None,
        avatar_id: str | None = None,
        voice_id: str | None = None,
        aspect_ratio: AspectRatioArg | None = None,
        subtitles: bool = False,
        idempotency_key: str | None = None,
    ) -> str:
        """Create a video, not rendered (free): from ``moments``, or from a ``script`` split
        into moments spoken by ``avatar_id`` (and ``voice_id``). Render it with
        render_video."""
        job = _job(name, moments, script, avatar_id, voice_id)
        video = await client.videos.create(
            **_create_arguments(job, aspect_ratio, subtitles), idempotency_key=idempotency_key
        )
        return _json(video)

    @tool
    async def estimate_video(
        video_id: str | None = None,
        name: str = "estimate",
        moments: list[MomentArg] | None = None,
        script: str | None = None,
        avatar_id: str | None = None,
        voice_id: str | None = None,
    ) -> str:
        """Estimated credits of one video (the published prices; an estimate, not a quote):
        an existing video by ``video_id``, or the moments or script you would give
        create_video. Also says the budget left."""
        if video_id is not None:
            job = _job_of(await client.videos.get(video_id))
        else:
            job = _job(name, moments, script, avatar_id, voice_id)
        estimate = estimate_cost([job])
        return _json(
            {
                "credits": estimate.total,
                "detail": estimate.jobs[0].to_dict(),
                "estimate": estimate.assumptions(),
                "budget": budget.to_dict(),
            }
        )

    @tool
    async def render_video(video_id: str) -> str:
        """PAID. Render an IDLE video (estimated and charged to the budget first; never
        twice). Returns at once: follow it with wait_for_video."""
        credits = estimate_cost([_job_of(await client.videos.get(video_id))]).total
        reference = f"video:{video_id}"
        budget.charge(reference, credits)
        try:
            video = await client.videos.render(video_id)
        except APIStatusError as exc:
            if exc.status_code < 500:  # refused (e.g. not IDLE): nothing was paid
                budget.refund(reference)
            raise
        return _json({"video": video, "estimated_credits": credits, "budget": budget.to_dict()})

    @tool
    async def make_video(
        name: str,
        idempotency_key: str,
        moments: list[MomentArg] | None = None,
        script: str | None = None,
        avatar_id: str | None = None,
        voice_id: str | None = None,
        aspect_ratio: AspectRatioArg | None = None,
        subtitles: bool = False,
        wait_seconds: float = 300.0,
    ) -> str:
        """PAID. Create, render and wait (at most ``wait_seconds``, 600 max) for one video.
        ``idempotency_key``: your name for this video; calling again with the same key (to
        retry, or to keep waiting) returns the same video and never pays twice."""
        job = _job(name, moments, script, avatar_id, voice_id)
        wait = _wait_seconds(wait_seconds)
        credits = estimate_cost([job]).total
        reference = f"key:{idempotency_key}"
        budget.charge(reference, credits)
        created: list[Video] = []
        try:
            video = await client.videos.generate(
                **_create_arguments(job, aspect_ratio, subtitles),
                idempotency_key=idempotency_key,
                timeout=wait,
                poll_interval=min(5.0, wait),
                on_created=created.append,
            )
        except WaitTimeoutError:
            if not created:
                raise
            return _json(
                {
                    "done": False,
                    "video": await client.videos.get(created[0].id),
                    "note": "still rendering: call wait_for_video with its id",
                    "budget": budget.to_dict(),
                }
            )
        except BaseException:
            if not created:  # no video exists, so nothing was rendered or paid
                budget.refund(reference)
            raise
        return _json(
            {"done": True, "video": video, "estimated_credits": credits, "budget": budget.to_dict()}
        )

    @tool
    async def wait_for_video(video_id: str, timeout_seconds: float = 300.0) -> str:
        """Wait until a video is DONE (at most ``timeout_seconds``, 600 max per call); says
        ``done: false`` with its status if it is still rendering then."""
        wait = _wait_seconds(timeout_seconds)
        try:
            video = await client.videos.wait_until_done(
                video_id, timeout=wait, poll_interval=min(5.0, wait)
            )
        except WaitTimeoutError:
            return _json({"done": False, "video": await client.videos.get(video_id)})
        return _json({"done": True, "video": video})

    @tool
    async def export_subtitles(
        video_id: str, format: Literal["vtt", "ass"] = "vtt", include_styling: bool = False
    ) -> str:
        """A rendered video's subtitles as WebVTT (``vtt``) or ASS text."""
        return await client.subtitles.export(
            video_id, format=format, include_styling=include_styling
        )

    @tool
    async def upload_asset(name: str, type: Literal["IMAGE", "VIDEO"], url: str) -> str:
        """Upload an image or video from a public URL (for B-rolls); returns it READY."""
        return _json(await client.assets.upload(name=name, type=type, url=url))

    return server


async def serve(options: ServerOptions) -> None:
    """Open the client (or the embedded simulator) and serve until the transport ends."""
    async with _session(options) as (client, key):
        server = build_server(client, Budget(options.max_credits), key)
        if options.http:
            await server.run_streamable_http_async(host="127.0.0.1", port=options.port)
        else:
            await server.run_stdio_async()


@asynccontextmanager
async def _session(options: ServerOptions) -> AsyncIterator[tuple[AsyncArgil, str]]:
    # stdout carries the protocol over stdio: the simulator's notice goes to stderr.
    async with api_session(json_output=True, simulate=options.simulate, stream=sys.stderr) as s:
        secret = s.simulator.api_key if s.simulator is not None else _env_key()
        yield s.client, secret


def _env_key() -> str:
    return os.environ.get("ARGIL_API_KEY", "")


def _registrar(
    server: MCPServer[Any], state: _State
) -> Callable[[Callable[P, Awaitable[str]]], Callable[P, Awaitable[str]]]:
    """A decorator adding a tool whose errors become MCP tool errors, its text scrubbed."""

    def register(fn: Callable[P, Awaitable[str]]) -> Callable[P, Awaitable[str]]:
        @functools.wraps(fn)
        async def run(*args: P.args, **kwargs: P.kwargs) -> str:
            try:
                return _scrub(await fn(*args, **kwargs), state.secret)
            except ToolError as exc:
                raise ToolError(_scrub(str(exc), state.secret)) from None
            except ArgilError as exc:
                raise ToolError(_scrub(f"{type(exc).__name__}: {exc}", state.secret)) from None

        server.add_tool(run, structured_output=False)
        return run

    return register


def _scrub(text: str, secret: str) -> str:
    return text.replace(secret, "***") if len(secret) >= 4 else text


def _json(value: object) -> str:
    """Indented JSON, unset (null) fields left out."""
    return msgspec.json.format(msgspec.json.encode(_without_nulls(value)), indent=2).decode()


def _without_nulls(value: object) -> object:
    value = msgspec.to_builtins(value)
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _wait_seconds(value: float) -> float:
    if not 0 < value <= MAX_WAIT:
        raise check.fail("timeout", f"must be a number of seconds in (0, {MAX_WAIT:g}]", value)
    return float(value)


def _job(
    name: str,
    moments: Sequence[Mapping[str, Any]] | None,
    script: str | None,
    avatar_id: str | None,
    voice_id: str | None,
) -> Job:
    """The video as a batch job (validated the batch way, so the estimator can price it)."""
    if (moments is None) == (script is None):
        raise check.fail("moments", "give exactly one of moments and script")
    if script is not None:
        if not avatar_id:
            raise check.fail("avatar_id", "must be given with a script")
        extra = {"voiceId": voice_id} if voice_id else {}
        moments = [{"avatarId": avatar_id, "transcript": t, **extra} for t in split_script(script)]
    assert moments is not None
    return Job.from_dict({"key": "mcp", "name": name, "moments": [dict(m) for m in moments]})


def _job_of(video: Video) -> Job:
    """An existing video as a job, for the estimator."""
    moments = []
    for moment in video.moments or []:
        spoken = (
            {"transcript": moment.transcript}
            if moment.transcript
            else {"audioUrl": moment.audio_url or "https://unknown.invalid/audio"}
        )
        moments.append({"avatarId": moment.avatar_id or "unknown", **spoken})
    if not moments:
        raise check.fail("video_id", "must be a video with moments to estimate", video.id)
    return Job.from_dict({"key": "mcp", "name": video.name or video.id, "moments": moments})


def _create_arguments(
    job: Job, aspect_ratio: AspectRatioArg | None, subtitles: bool
) -> dict[str, Any]:
    arguments: dict[str, Any] = {"name": job.name, "moments": list(job.moments)}
    if aspect_ratio is not None:
        arguments["aspect_ratio"] = aspect_ratio
    if subtitles:
        arguments["subtitles"] = {"enable": True}
    return arguments


def split_script(script: str) -> list[str]:
    """A script as moment transcripts: whole sentences, at most 250 characters each."""
    pieces: list[str] = []
    for sentence in _SENTENCE.split(" ".join(script.split())):
        words = sentence.split(" ")
        while words:
            line = words.pop(0)[:MAX_TRANSCRIPT]
            while words and len(line) + 1 + len(words[0]) <= MAX_TRANSCRIPT:
                line += " " + words.pop(0)
            if pieces and len(pieces[-1]) + 1 + len(line) <= MAX_TRANSCRIPT:
                pieces[-1] += " " + line
            else:
                pieces.append(line)
    if not pieces or not pieces[0]:
        raise check.fail("script", "must not be empty")
    return pieces

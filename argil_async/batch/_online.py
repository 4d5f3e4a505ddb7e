"""Checking a job file against the workspace before anything is created.

[`check_online()`][argil_async.batch.check_online] lists the avatars, voices and subtitle styles
once, fetches each asset the jobs name once, and reports with line numbers every avatar that does
not exist or is not IDLE, every unknown voice, gesture or style, every asset missing or not READY,
and the documented limits the offline check leaves to the server (an empty transcript); a
transcript over Argil's current 500 characters is a warning
([`job_warnings()`][argil_async.batch.job_warnings]), not a problem: the limit has changed before.

Avatars and voices may be given by *name* in a job file (``avatarId: "Ada"``): a value that
is not an id is looked up by name (case-insensitive, exactly one match) and replaced by the
id; [`resolve_names()`][argil_async.batch.resolve_names] does only that, and ``run`` uses it. Names
never reach the API.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import msgspec

from .._client import AsyncArgil
from ..errors import NotFoundError
from ..models import Asset, Avatar, Moment, Voice
from ._jobs import Job, JobProblem, _mark_checked, checked_jobs

__all__ = ["OnlineCheck", "check_online", "job_warnings", "resolve_names"]

#: Argil's current limits (they were 250 characters and 20 s before): above them a render may
#: be refused, so the checks warn, but do not refuse, since the limits have changed before.
MAX_TRANSCRIPT = 500
MAX_AUDIO_SECONDS = 40.0
_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass
class OnlineCheck:
    """The outcome: jobs with names resolved, problems found, avatars that pay a royalty,
    and warnings ([`job_warnings()`][argil_async.batch.job_warnings]: over Argil's current limits,
    not refused)."""

    jobs: list[Job]
    problems: list[JobProblem] = field(default_factory=list)
    royalty_avatars: set[str] = field(default_factory=set)
    warnings: list[JobProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


class _Names:
    """Resources by id, and ids by lower-cased name."""

    def __init__(self, kind: str, items: Iterable[Avatar | Voice]) -> None:
        self.kind = kind
        self.by_id = {item.id: item for item in items}
        self.by_name: dict[str, list[str]] = {}
        for item in self.by_id.values():
            if item.name:
                self.by_name.setdefault(item.name.strip().lower(), []).append(item.id)

    def resolve(self, value: str) -> tuple[str | None, str | None]:
        """``(id, None)`` or ``(None, problem)``."""
        if value in self.by_id:
            return value, None
        ids = self.by_name.get(value.strip().lower(), [])
        if len(ids) == 1:
            return ids[0], None
        if ids:
            return None, f"{len(ids)} {self.kind}s are named {value!r}: use the id"
        return None, f"no {self.kind} has this id or name"


def _needs_lookup(jobs: Sequence[Job], name: str) -> bool:
    for job in jobs:
        for moment in job.moments:
            value = getattr(moment, name)
            if isinstance(value, str) and not _ID.match(value):
                return True
    return False


async def resolve_names(client: AsyncArgil, jobs: Sequence[Job]) -> OnlineCheck:
    """Replace avatar and voice names by ids (no request when every value is an id).

    Jobs built in code are checked first ([`JobFileError`][argil_async.batch.JobFileError] if one is
    invalid).
    """
    jobs = checked_jobs(jobs)
    avatars = _Names(
        "avatar", await client.avatars.list() if _needs_lookup(jobs, "avatar_id") else []
    )
    voices = _Names("voice", await client.voices.list() if _needs_lookup(jobs, "voice_id") else [])
    problems: list[JobProblem] = []
    resolved = [_resolved(job, avatars, voices, problems, strict=False) for job in jobs]
    return OnlineCheck(resolved, problems)


async def check_online(client: AsyncArgil, jobs: Sequence[Job]) -> OnlineCheck:
    """Every reference and documented limit of ``jobs`` checked against the API.

    Jobs built in code are checked first ([`JobFileError`][argil_async.batch.JobFileError] if one is
    invalid).
    """
    jobs = checked_jobs(jobs)
    avatar_list, voice_list, public = await asyncio.gather(
        client.avatars.list(), client.voices.list(), client.avatars.list(visibility="public")
    )
    styles = {style.id for style in await client.subtitles.list(page_size=100).to_list()}
    assets = await _assets(client, jobs)
    avatars, voices = _Names("avatar", avatar_list), _Names("voice", voice_list)
    problems: list[JobProblem] = []
    resolved = [_resolved(job, avatars, voices, problems, strict=True) for job in jobs]
    for job in resolved:
        problems += _job_problems(job, avatars, styles, assets)
    royalty = {a.id for a in public if a.model == "ARGIL_V1"}
    ordered = sorted(problems, key=lambda p: p.line)
    return OnlineCheck(resolved, ordered, royalty, job_warnings(resolved))


def job_warnings(
    jobs: Iterable[Job], *, audio_seconds: Mapping[str, float] | None = None
) -> list[JobProblem]:
    """What may be refused at render time although the job is valid: a transcript over
    Argil's current 500 characters, an audio known (``audio_seconds``: seconds by audio URL)
    to last over 40 s. Warnings, not problems: these limits have changed before.

    Example: ``for warning in job_warnings(load_jobs("jobs.jsonl")): print(warning)`` prints
    ``line 3: moments[0].transcript: 612 characters, over Argil's current limit of 500 ...``.
    """
    lengths = audio_seconds or {}
    found = []
    for job in checked_jobs(jobs):
        for index, moment in enumerate(job.moments):
            where = f"moments[{index}]"
            transcript, url = moment.transcript, moment.audio_url
            if transcript is not None and len(transcript) > MAX_TRANSCRIPT:
                rule = (
                    f"{len(transcript)} characters, over Argil's current limit of "
                    f"{MAX_TRANSCRIPT}: the render may be refused"
                )
                found.append(JobProblem(job.line, f"{where}.transcript", rule))
            seconds = lengths.get(url) if url is not None else None
            if seconds is not None and seconds > MAX_AUDIO_SECONDS:
                rule = (
                    f"{seconds:g} s of audio, over Argil's current limit of "
                    f"{MAX_AUDIO_SECONDS:g} s: the render may be refused"
                )
                found.append(JobProblem(job.line, f"{where}.audioUrl", rule))
    return found


async def _assets(client: AsyncArgil, jobs: Sequence[Job]) -> dict[str, Asset | None]:
    """Each asset the jobs name, fetched once (None: it does not exist)."""
    ids = sorted({asset_id for job in jobs for _, asset_id in _asset_refs(job)})
    limit = asyncio.Semaphore(8)

    async def fetch(asset_id: str) -> Asset | None:
        async with limit:
            try:
                return await client.assets.get(asset_id)
            except NotFoundError:
                return None

    found = await asyncio.gather(*(fetch(asset_id) for asset_id in ids))
    return dict(zip(ids, found, strict=True))


def _asset_refs(job: Job) -> list[tuple[str, str]]:
    refs = []
    for index, moment in enumerate(job.moments):
        broll = moment.broll
        if broll is not None and broll.asset_id is not None:
            refs.append((f"moments[{index}].broll.assetId", broll.asset_id))
    music = job.background_music
    if music is not None:
        refs.append(("backgroundMusic.assetId", music.asset_id))
    return refs


def _resolved(
    job: Job, avatars: _Names, voices: _Names, problems: list[JobProblem], *, strict: bool
) -> Job:
    moments = []
    for index, moment in enumerate(job.moments):
        ids: dict[str, str] = {}
        for name, wire, names in (
            ("avatar_id", "avatarId", avatars),
            ("voice_id", "voiceId", voices),
        ):
            value = getattr(moment, name)
            if not isinstance(value, str) or (not strict and _ID.match(value)):
                continue
            resolved, problem = names.resolve(value)
            if resolved is None:
                problems.append(JobProblem(job.line, f"moments[{index}].{wire}", str(problem)))
            elif resolved != value:
                ids[name] = resolved
        moments.append(msgspec.structs.replace(moment, **ids) if ids else moment)
    if all(new is old for new, old in zip(moments, job.moments, strict=True)):
        return job
    renamed = dataclasses.replace(job, moments=tuple(moments))
    _mark_checked(renamed, True)  # ids for names: still the valid job it was
    return renamed


def _job_problems(
    job: Job, avatars: _Names, styles: set[str], assets: Mapping[str, Asset | None]
) -> list[JobProblem]:
    found: list[tuple[str, str]] = []
    for index, moment in enumerate(job.moments):
        found += _moment_problems(f"moments[{index}]", moment, avatars)
    style = job.subtitles.style_id if job.subtitles is not None else None
    if style is not None and style not in styles:
        found.append(("subtitles.styleId", "no subtitle style has this id"))
    for where, asset_id in _asset_refs(job):
        asset = assets.get(asset_id)
        if asset is None:
            found.append((where, "no asset has this id"))
        elif asset.status != "READY":
            found.append((where, f"the asset is {asset.status}, not READY"))
    return [JobProblem(job.line, where, rule) for where, rule in found]


def _moment_problems(where: str, moment: Moment, avatars: _Names) -> list[tuple[str, str]]:
    found = []
    if moment.transcript == "":
        found.append((f"{where}.transcript", "must not be empty"))
    avatar = avatars.by_id.get(moment.avatar_id)
    if not isinstance(avatar, Avatar):
        return found
    if avatar.status != "IDLE":
        found.append((f"{where}.avatarId", f"the avatar is {avatar.status}, not IDLE"))
    slug = moment.gesture_slug
    slugs = {gesture.slug for gesture in avatar.gestures or []}
    if slug is not None and slug not in slugs:
        found.append((f"{where}.gestureSlug", "this avatar has no such gesture"))
    return found

"""What a batch will cost, estimated from Argil's published price table (api-pricings).

=================================  ===============================================
video                              140 credits per minute
voice (text to speech)             20 credits per minute (moments with a transcript)
royalty, Argil's own v1 avatars    20 credits per video
B-roll, AI image (``GENERATION``)  10 credits each
B-roll, stock video (``STOCKS_VIDEO``)  20 credits each
=================================  ===============================================

It is an *estimate*: speech lasts ``words / words_per_minute`` (150 by default) for a
transcript, the audio's length when it is known (``audio_seconds``) and else the documented
40-second maximum of a moment's audio. Automatic B-roll counts are not documented: one image
or clip per 15, 10 or 5 seconds of speech at LOW, MEDIUM or HIGH intensity is assumed (the
price page's worked example, 3 images in 30 s, matches MEDIUM). The royalty is counted for
every video unless ``royalty_avatars`` says which avatars pay it (``argil batch estimate
--online`` lists Argil's public v1 avatars). Each job is rounded up to a whole credit.

Example: ``estimate_cost(load_jobs("jobs.jsonl")).total`` gives ``130`` for one 75-word job
on a v1 avatar with MEDIUM AI-image B-rolls (30 s: 70 + 10 + 20 + 30).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .. import _validation as check
from ..models import AutoBrolls, Moment
from ._jobs import Job, checked_jobs

__all__ = ["PRICES", "CostEstimate", "JobCost", "estimate_cost"]

#: The published price table, in credits.
PRICES: Mapping[str, float] = {
    "video_per_minute": 140,
    "voice_per_minute": 20,
    "royalty_per_video": 20,
    "ai_image_broll": 10,
    "stock_video_broll": 20,
}
MAX_AUDIO_SECONDS = 40.0
_BROLL_SPACING = {"LOW": 15.0, "MEDIUM": 10.0, "HIGH": 5.0}
_BROLL_PRICES = {"GENERATION": "ai_image_broll", "STOCKS_VIDEO": "stock_video_broll"}
NOTICE = "an estimate from Argil's published prices, not a quote"


@dataclass(frozen=True)
class JobCost:
    """One job's estimated credits, by price line; ``seconds`` of speech."""

    key: str
    line: int
    seconds: float
    video: float
    voice: float
    royalty: float
    broll: float

    @property
    def total(self) -> int:
        """Credits, rounded up to a whole one."""
        return math.ceil(self.video + self.voice + self.royalty + self.broll - 1e-9)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        parts = ("video", "voice", "royalty", "broll")
        return {
            "key": self.key,
            "line": self.line,
            "seconds": round(self.seconds, 1),
            **{name: round(getattr(self, name), 2) for name in parts},
            "total": self.total,
        }


@dataclass(frozen=True)
class CostEstimate:
    """Estimated credits of a batch, per job and in total."""

    jobs: list[JobCost]
    words_per_minute: float
    royalty_known: bool

    @property
    def total(self) -> int:
        """Credits of every job."""
        return sum(job.total for job in self.jobs)

    def assumptions(self) -> str:
        """The assumptions behind the figures, in one sentence."""
        royalty = (
            "royalty for Argil's v1 avatars only"
            if self.royalty_known
            else "royalty counted for every video (avatars not looked up)"
        )
        return (
            f"{NOTICE}: speech at {self.words_per_minute:g} words/minute (audio: its length, "
            f"or {MAX_AUDIO_SECONDS:g} s if unknown), {royalty}, auto B-roll every 15/10/5 s "
            "(LOW/MEDIUM/HIGH)"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``argil batch estimate --json``)."""
        return {
            "total": self.total,
            "jobs": [job.to_dict() for job in self.jobs],
            "prices": dict(PRICES),
            "words_per_minute": self.words_per_minute,
            "estimate": self.assumptions(),
        }

    def __str__(self) -> str:
        minutes = sum(job.seconds for job in self.jobs) / 60
        return (
            f"{len(self.jobs)} jobs, {minutes:.1f} min of video: about {self.total} credits "
            f"({self.assumptions()})"
        )


def estimate_cost(
    jobs: Iterable[Job],
    *,
    words_per_minute: float = 150.0,
    royalty_avatars: Collection[str] | None = None,
    audio_seconds: Mapping[str, float] | None = None,
) -> CostEstimate:
    """Estimated credits of ``jobs`` from the published prices (see the module doc).

    ``royalty_avatars``: the avatar ids that pay the royalty (None: assume every video pays
    it); ``audio_seconds``: known lengths of audio URLs. Jobs built in code are checked
    first ([`JobFileError`][argil_async.batch.JobFileError] if one is invalid).
    """
    check.number("words_per_minute", words_per_minute, low=0, high=1000)
    if not 0 < words_per_minute < 1000:
        raise check.fail("words_per_minute", "must be between 0 and 1000", words_per_minute)
    jobs = checked_jobs(jobs)
    costs = [_job_cost(job, words_per_minute, royalty_avatars, audio_seconds or {}) for job in jobs]
    return CostEstimate(costs, float(words_per_minute), royalty_avatars is not None)


def _job_cost(
    job: Job,
    wpm: float,
    royalty_avatars: Collection[str] | None,
    audio_seconds: Mapping[str, float],
) -> JobCost:
    spoken = [_moment_seconds(moment, wpm, audio_seconds) for moment in job.moments]
    seconds = sum(seconds for seconds, _ in spoken)
    voiced = sum(seconds for seconds, tts in spoken if tts)
    avatars = {moment.avatar_id for moment in job.moments}
    pays = royalty_avatars is None or bool(avatars & set(royalty_avatars))
    return JobCost(
        key=job.key,
        line=job.line,
        seconds=seconds,
        video=PRICES["video_per_minute"] * seconds / 60,
        voice=PRICES["voice_per_minute"] * voiced / 60,
        royalty=PRICES["royalty_per_video"] if pays else 0.0,
        broll=_broll_cost(job.auto_brolls, seconds),
    )


def _moment_seconds(
    moment: Moment, wpm: float, audio_seconds: Mapping[str, float]
) -> tuple[float, bool]:
    """Seconds of speech, and whether the voice is generated (a transcript)."""
    transcript = moment.transcript
    if transcript is not None:
        return len(transcript.split()) / wpm * 60, True
    return float(audio_seconds.get(str(moment.audio_url), MAX_AUDIO_SECONDS)), False


def _broll_cost(auto: AutoBrolls | None, seconds: float) -> float:
    if auto is None or auto.enable is False:
        return 0.0
    price = _BROLL_PRICES.get(auto.source)
    if price is None:
        return 0.0
    spacing = _BROLL_SPACING.get(auto.intensity or "MEDIUM", 10.0)
    return PRICES[price] * math.ceil(seconds / spacing - 1e-9)

"""The job-queue tests' jobs (20 over 15 keys) and their check from the simulator's side."""

from __future__ import annotations

from typing import Any

from argil_async import Argil
from argil_async.batch import JOB_KEY_EXTRA
from argil_async.testing import SimulatorCounters
from support.processes import SimulatorProcess

__all__ = [
    "KEYS",
    "TWICE",
    "assert_exactly_once",
    "describe",
    "queue_jobs",
    "rendering",
    "videos_by_key",
]

KEYS = 15
TWICE = 5  # the first 5 keys are sent twice: 20 tasks


def queue_jobs(sim: SimulatorProcess, tag: str) -> list[dict[str, Any]]:
    """20 job-file lines over 15 keys: the first 5 twice in a row (so the two copies run side
    by side on two workers and race each other's create); every third has a B-roll URL."""
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        avatar = client.avatars.list()[0].id
    jobs = []
    for n in range(KEYS):
        moment: dict[str, Any] = {"avatarId": avatar, "transcript": f"Hello number {n}!"}
        if n % 3 == 0:
            moment["broll"] = {"url": f"https://cdn.example.com/{tag}/b-roll-{n}.jpg"}
        jobs.append({"key": f"{tag}-{n:02d}", "name": f"Queue video {n}", "moments": [moment]})
    return [job for job in jobs[:TWICE] for _ in (1, 2)] + jobs[TWICE:]


def rendering(sim: SimulatorProcess) -> int:
    """How many videos are being rendered right now (seen through the API)."""
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        busy = {"GENERATING_AUDIO", "GENERATING_VIDEO"}
        return sum(video.status in busy for video in client.videos.list(page_size=100))


def videos_by_key(sim: SimulatorProcess) -> dict[str, list[Any]]:
    """Every video the simulator holds (deleted ones excluded), grouped by job key."""
    grouped: dict[str, list[Any]] = {}
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        for video in client.videos.list(page_size=100):
            key = (video.extras or {}).get(JOB_KEY_EXTRA)
            grouped.setdefault(str(key), []).append(video)
    return grouped


def assert_exactly_once(sim: SimulatorProcess, jobs: list[dict[str, Any]]) -> SimulatorCounters:
    """From the simulator's side: every job key has one live video, DONE, rendered once.

    The simulator's counters (``GET /_sim/counters``) remember deleted videos too, so a second
    video made and then cleaned up shows; the API's list confirms each video is DONE.
    """
    keys = {job["key"] for job in jobs}
    counters = SimulatorCounters.fetch(sim.base_url, sim.api_key)
    assert set(counters.by_idempotency_key) == keys
    assert {key: len(t.live) for key, t in counters.by_idempotency_key.items()} == dict.fromkeys(
        keys, 1
    )
    assert {t.renders for t in counters.by_idempotency_key.values()} == {1}
    live = {vid for t in counters.by_idempotency_key.values() for vid in t.live}
    assert all(counters.videos[vid].renders == 1 for vid in live)
    grouped = videos_by_key(sim)
    assert set(grouped) == keys
    assert {len(videos) for videos in grouped.values()} == {1}
    assert {videos[0].status for videos in grouped.values()} == {"DONE"}
    return counters


def describe(counters: SimulatorCounters) -> str:
    """The counts a report quotes: videos created/deleted, renders, refused renders."""
    keys = counters.by_idempotency_key
    per_key = sorted({len(t.live) for t in keys.values()})
    renders = sorted({counters.videos[v].renders for t in keys.values() for v in t.live})
    return (
        f"{len(keys)} keys, live videos per key {per_key}, renders per video {renders}, "
        f"{counters.videos_created} created, {counters.videos_deleted} deleted, "
        f"{counters.renders_refused} renders refused"
    )

"""The job-queue tests' jobs (20 over 15 keys) and their check from the simulator's side."""

from __future__ import annotations

from collections import Counter
from typing import Any

from argil_async import Argil
from argil_async.batch import JOB_KEY_EXTRA
from support.processes import SimulatorProcess

__all__ = ["KEYS", "TWICE", "assert_exactly_once", "queue_jobs", "videos_by_key"]

KEYS = 15
TWICE = 5  # the first 5 keys are sent twice: 20 tasks


def queue_jobs(sim: SimulatorProcess, tag: str) -> list[dict[str, Any]]:
    """20 job-file lines over 15 keys (the first 5 twice); every third one has a B-roll URL."""
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        avatar = client.avatars.list()[0].id
    jobs = []
    for n in range(KEYS):
        moment: dict[str, Any] = {"avatarId": avatar, "transcript": f"Hello number {n}!"}
        if n % 3 == 0:
            moment["broll"] = {"url": f"https://cdn.example.com/{tag}/b-roll-{n}.jpg"}
        jobs.append({"key": f"{tag}-{n:02d}", "name": f"Queue video {n}", "moments": [moment]})
    return jobs + jobs[:TWICE]


def videos_by_key(sim: SimulatorProcess) -> dict[str, list[Any]]:
    """Every video the simulator holds (deleted ones excluded), grouped by job key."""
    grouped: dict[str, list[Any]] = {}
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        for video in client.videos.list(page_size=100):
            key = (video.extras or {}).get(JOB_KEY_EXTRA)
            grouped.setdefault(str(key), []).append(video)
    return grouped


def assert_exactly_once(sim: SimulatorProcess, jobs: list[dict[str, Any]]) -> Counter[str]:
    """Every job key has one video, DONE, and (as far as the API shows) rendered once."""
    keys = {job["key"] for job in jobs}
    grouped = videos_by_key(sim)
    assert set(grouped) == keys
    per_key = Counter({key: len(videos) for key, videos in grouped.items()})
    assert set(per_key.values()) == {1}, per_key
    assert {videos[0].status for videos in grouped.values()} == {"DONE"}
    return per_key

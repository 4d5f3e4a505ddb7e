"""An asyncio job queue (saq, on Redis) that makes one rendered video per job key, exactly once.

Run a worker, then enqueue jobs, one line of a batch job file each (``key``, ``name``,
``moments``, ...)::

    export ARGIL_API_KEY=...                    # or the simulator's ARGIL_BASE_URL/KEY
    export SAQ_REDIS_URL=redis://localhost:6379/0  # the default
    saq examples.saq_app.settings

    from examples.saq_app import enqueue_video
    await enqueue_video({"key": "welcome-ada", "name": "Welcome Ada",
                         "moments": [{"avatarId": "...", "transcript": "Hi Ada!"}]})

The worker is one asyncio process running many jobs at once (``SAQ_CONCURRENCY``, 10 by
default) on one ``AsyncArgil``, opened at worker start-up and closed at shut-down. As with
``examples/celery_app.py``, the job key is the create's ``idempotency_key``, so a job run
again (retried after an error or a lost worker, or enqueued twice) resumes the same video and
is never paid twice; B-roll uploads share the workspace's 5 slots through a
``RedisAssetLimiter``. A job whose worker died (SIGKILL, a lost machine) stops beating and is
run again by another worker after ``SAQ_HEARTBEAT`` seconds (120). Why saq rather than arq: see
the docs page "Running on job queues".
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

from saq import Queue

from argil_async import AsyncArgil
from argil_async.batch import Job
from argil_async.limits import RedisAssetLimiter

REDIS_URL = os.environ.get("SAQ_REDIS_URL", "redis://localhost:6379/0")
queue = Queue.from_url(REDIS_URL, name=os.environ.get("SAQ_QUEUE", "argil-videos"))
# A running job touches itself every HEARTBEAT/3 s; one untouched for HEARTBEAT s (its worker
# died) is swept by another worker (which looks every SWEEP s) and run again. saq's sweeper
# waits up to 5 s for each job it aborts and judges the rest on what it read at the start, so
# keep HEARTBEAT well over 5 s x concurrency: a live job judged dead runs twice (which the
# idempotency key makes harmless, but wasteful).
HEARTBEAT = int(os.environ.get("SAQ_HEARTBEAT", "120"))
SWEEP = int(os.environ.get("SAQ_SWEEP", "60"))


async def startup(ctx: dict[str, Any]) -> None:
    """One client for the worker's life (reads ARGIL_API_KEY and ARGIL_BASE_URL)."""
    ctx["argil"] = AsyncArgil(asset_limiter=RedisAssetLimiter(REDIS_URL, name="argil-saq"))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close the client (and the limiter's Redis connection)."""
    await ctx["argil"].aclose()


async def make_video(ctx: dict[str, Any], *, job: dict[str, Any]) -> dict[str, Any]:
    """Make the job's video (create with its key as idempotency key, render, wait)."""
    parsed = Job.from_dict(job)  # InvalidRequestError (JobFileError) for a malformed job
    argil: AsyncArgil = ctx["argil"]
    async with _heartbeat(ctx["job"]):
        asset_ids = {}
        for url, kind in parsed.uploads():
            name = urlsplit(url).path.rsplit("/", 1)[-1] or "b-roll"
            asset = await argil.assets.upload(name=name[:256], type=kind, url=url)  # type: ignore[arg-type]
            asset_ids[url] = asset.id
        video = await argil.videos.generate(
            **parsed.create_arguments(asset_ids),
            idempotency_key=parsed.key,
            poll_interval=float(os.environ.get("ARGIL_POLL_INTERVAL", "5")),
        )
    return {"key": parsed.key, "video_id": video.id, "video_url": video.video_url}


@contextlib.asynccontextmanager
async def _heartbeat(job: Any) -> AsyncIterator[None]:
    """Touch the saq job while it runs, so only a dead worker's jobs are swept."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT / 3)
            await job.update()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


settings = {
    "queue": queue,
    "functions": [make_video],
    "concurrency": int(os.environ.get("SAQ_CONCURRENCY", "10")),
    "startup": startup,
    "shutdown": shutdown,
    "timers": {"sweep": SWEEP},
}


async def enqueue_video(job: dict[str, Any], *, on: Queue = queue) -> Any:
    """Enqueue one job: an hour to finish (renders take minutes), 5 attempts with backoff, a
    heartbeat so that a job whose worker died is run again by another.

    No saq ``key`` is given: saq's key drops a second enqueue only while the first is queued
    or running; the video's idempotency key is what guards the payment, at any time.
    """
    return await on.enqueue(
        "make_video",
        job=job,
        timeout=3600,
        heartbeat=HEARTBEAT,
        retries=5,
        retry_delay=5.0,
        retry_backoff=True,
    )

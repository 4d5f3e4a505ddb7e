"""A Celery app that makes one rendered video per job key, exactly once.

Run a worker (prefork, the default pool)::

    export ARGIL_API_KEY=...                          # or the simulator's ARGIL_BASE_URL/KEY
    export CELERY_BROKER_URL=redis://localhost:6379/0  # the default
    celery -A examples.celery_app worker --concurrency 4

and send it jobs, one line of a batch job file each (``key``, ``name``, ``moments``, ...)::

    from examples.celery_app import make_video
    make_video.delay({"key": "welcome-ada", "name": "Welcome Ada",
                      "moments": [{"avatarId": "...", "transcript": "Hi Ada!"}]})

Why a job is paid for once, whatever happens to the worker (docs: "Running on job queues"):

- the job key is the create's ``idempotency_key``: a task run again (redelivered after a
  crash, or the same job sent twice) finds the video the first run made instead of creating
  another, and ``videos.generate`` does not render a video that is already rendering or done;
- the API itself refuses to render a video twice;
- ``acks_late=True`` and ``task_reject_on_worker_lost=True``: the message is acknowledged
  when the task ends, so a worker killed mid-task (SIGKILL, OOM, a lost machine) leaves it in
  the queue for another worker instead of losing the job.

Each prefork process gets its own sync ``Argil`` client, made after the fork
(``worker_process_init``) and closed at the process's exit. B-roll given by URL is uploaded
through a ``RedisAssetLimiter`` on the broker's Redis, so every process of every worker
shares the workspace's 5 assets-processing slots.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

from argil_async import Argil
from argil_async.batch import Job
from argil_async.limits import RedisAssetLimiter

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://localhost:6379/0")
VISIBILITY_TIMEOUT = float(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "3600"))

app = Celery("argil_videos", broker=BROKER_URL, backend=BROKER_URL)
app.conf.update(
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,  # a worker holds only the tasks it is running
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    # An unacknowledged message goes back to the queue this long after it was taken (a
    # worker that died mid-task): longer than a render, or a slow task is run twice (which
    # the idempotency key makes harmless, but wasteful). Workers look for such messages when
    # they start and every unacked_restore_interval seconds after.
    broker_transport_options={
        "visibility_timeout": VISIBILITY_TIMEOUT,
        "unacked_restore_interval": min(10.0, max(VISIBILITY_TIMEOUT / 3, 1.0)),
        "unacked_restore_throttle": 1,
    },
)

_client: Argil | None = None


@worker_process_init.connect
def _open_client(**_: Any) -> None:
    """One client per worker process, made after the fork (never shared across processes)."""
    global _client
    limiter = RedisAssetLimiter(BROKER_URL, name="argil-celery")
    _client = Argil(asset_limiter=limiter)  # reads ARGIL_API_KEY and ARGIL_BASE_URL


@worker_process_shutdown.connect
def _close_client(**_: Any) -> None:
    global _client
    if _client is not None:
        _client.close()
        _client = None


def client() -> Argil:
    """This process's client (made here too for ``task.apply()`` and solo pools)."""
    if _client is None:
        _open_client()
    assert _client is not None
    return _client


@app.task(name="make_video", acks_late=True, task_reject_on_worker_lost=True)
def make_video(job: dict[str, Any]) -> dict[str, Any]:
    """Make the job's video (create with its key as idempotency key, render, wait)."""
    parsed = Job.from_dict(job)  # InvalidRequestError (JobFileError) for a malformed job
    argil = client()
    asset_ids = {}
    for url, kind in parsed.uploads():
        name = urlsplit(url).path.rsplit("/", 1)[-1] or "b-roll"
        asset_ids[url] = argil.assets.upload(name=name[:256], type=kind, url=url).id  # type: ignore[arg-type]
    video = argil.videos.generate(
        **parsed.create_arguments(asset_ids),
        idempotency_key=parsed.key,
        poll_interval=float(os.environ.get("ARGIL_POLL_INTERVAL", "5")),
    )
    return {"key": parsed.key, "video_id": video.id, "video_url": video.video_url}

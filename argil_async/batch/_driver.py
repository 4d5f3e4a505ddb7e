"""One job's way through the journal states, with the reconciliation that makes it exactly once.

Each step reads the job's record, talks to the API, and saves the next record; a step that
announces a non-idempotent request (create, render) saves its intent first. So whatever the
record says when a run starts, the next step is safe:

- PENDING: upload B-roll URLs (uploads are idempotent), save CREATING, POST /videos.
- CREATING: the create may have landed. List videos with ``extras_filter`` on the job key;
  adopt the video found that carries this journal's batch id too (another batch may have
  used the same key), else create; an adopted video that has left IDLE was rendered too.
- CREATED: save RENDERING, POST render.
- RENDERING: the render may have landed. GET the video: IDLE means it did not, render again;
  any other status means it did. The API renders only IDLE videos, so a render that raced
  an earlier one is refused (400), and that 400 is settled by the same GET.
- RENDER_SENT: wait for the end of the render.
- TIMED_OUT (left by an earlier run): as RENDERING, since the render may not have landed.

A journal that may lose its last saves (``recheck``: Redis with ``appendfsync everysec``)
can show PENDING for a job whose create landed, or CREATED for one whose render did. Then a
PENDING job looks for its video by key before creating (as CREATING does), and a job
resumed at CREATED checks the video's status before rendering (as RENDERING does).

A coordinated run (``fence``) also: confirms its claim right before each create and render
(``fence(key)`` raises ClaimLostError and nothing is sent); accepts the videos of earlier
batches of its ``family`` (a batch lost from Redis and started again); keeps, when a job key
has several such videos, the one every worker would keep (under way first, then the oldest)
and deletes the other IDLE ones (creating is free); and deletes the IDLE video it just made
when it finds its claim lost and another video of the job is the one kept.

Failures: 401 and a journal that cannot be written stop the whole run (every job would fail the
same way). Connection errors, timeouts, 408, 429 and 5xx that outlived the client's own retries
are retried here, with jittered exponential backoff, up to ``retries`` times in a row; the step
is re-run from the saved state, so a create that failed ambiguously is reconciled before it is
sent again. Past the last retry a job whose render may have been sent (RENDERING, RENDER_SENT)
is TIMED_OUT, so that the next run learns the outcome of a render that may be paid for; any
other error (a 4xx, a failed render, a failed upload) fails the job. Either way the run goes
on.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import anyio

from .._client import AsyncArgil
from .._paid import find_existing, rendered, seniority
from ..errors import (
    APIConnectionError,
    APIStatusError,
    ArgilError,
    AuthenticationError,
    BadRequestError,
    GenerationFailedError,
    InternalServerError,
    RateLimitError,
    RedisError,
    WaitTimeoutError,
)
from ..models import Video
from ._jobs import BATCH_EXTRA, JOB_KEY_EXTRA, Job
from ._layout import JournalError
from ._records import (
    CREATED,
    CREATING,
    DONE,
    FAILED,
    FINISHED,
    PENDING,
    RENDER_SENT,
    RENDERING,
    TIMED_OUT,
    JobRecord,
    JobStore,
)
from ._uploads import Uploads
from ._waiting import Waiter

__all__ = ["JobDriver", "RetrySettings", "is_transient"]

logger = logging.getLogger("argil_async.batch")

Step = Callable[[Job, JobRecord], Awaitable[JobRecord]]
#: Errors that end the whole run (or, for a coordinated run's ClaimLostError, this worker's
#: hold on the job): a Redis store's errors are RedisError (a lost claim or batch, a Redis
#: unreachable past its retries), so the driver knows no store.
_FATAL = (AuthenticationError, JournalError, RedisError)
_TIDY_FOR = 15.0  # seconds a worker that lost a job spends deleting its stray IDLE video


@dataclass(frozen=True)
class RetrySettings:
    """Per-job retries of transient failures: ``retries`` in a row, waits from ``wait`` s."""

    retries: int = 5
    wait: float = 1.0
    max_wait: float = 60.0

    def delay(self, failures: int) -> float:
        """Jittered exponential backoff before retry number ``failures`` (from 1)."""
        ceiling = min(self.max_wait, self.wait * 2 ** (failures - 1))
        return random.uniform(ceiling / 2, ceiling)


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: the request may succeed later."""
    if isinstance(exc, (APIConnectionError, InternalServerError, RateLimitError)):
        return True
    return isinstance(exc, APIStatusError) and exc.status_code == 408


class JobDriver:
    """Takes jobs from their saved state to DONE, FAILED or TIMED_OUT."""

    def __init__(
        self,
        client: AsyncArgil,
        writer: JobStore,
        waiter: Waiter,
        retry: RetrySettings,
        on_move: Callable[[str, str], None] = lambda old, new: None,
        batch: str | None = None,
        *,
        recheck: bool = False,
        family: str | None = None,
        fence: Callable[[str], Awaitable[None]] | None = None,
        paid_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._client = client
        self._batch = batch
        self._recheck = recheck
        self._family = family
        self._fence = fence
        self._paid = dict(paid_options or {})  # per-call options of creates and renders
        self._creating: set[str] = set()  # jobs whose create this worker sent (fenced runs)
        self._writer = writer
        self._waiter = waiter
        self._retry = retry
        self._uploads = Uploads(client)
        self._on_move = on_move
        self._latest: dict[str, JobRecord] = {}  # each running job's last saved record
        self._steps: dict[str, Step] = {
            PENDING: self._start,
            CREATING: self._reconcile_create,
            CREATED: self._render,
            RENDERING: self._reconcile_render,
            RENDER_SENT: self._wait,
        }

    async def drive(self, job: Job, record: JobRecord) -> JobRecord:
        """Run ``job`` from ``record`` until it is finished; return its last record."""
        if record.state != PENDING:  # a resumed job: count this run as another attempt
            doubtful = record.state == TIMED_OUT or (self._recheck and record.state == CREATED)
            state = RENDERING if doubtful else record.state
            record = await self._save(record, state=state, attempts=record.attempts + 1)
        failures = 0
        try:
            while record.state not in FINISHED:
                try:
                    record = await self._steps[record.state](job, record)
                    failures = 0
                except _FATAL:
                    raise
                except Exception as exc:
                    failures += 1
                    record = await self._recover(self._latest.get(job.key, record), exc, failures)
            if self._fence is not None and record.attempts > 1:  # taken over or resumed:
                await self._tidy(job, record)  # a stale worker's late create, landed since
        except (RedisError, anyio.get_cancelled_exc_class()):
            if job.key in self._creating:  # a create of ours may have landed after all
                with anyio.CancelScope(shield=True), anyio.move_on_after(_TIDY_FOR):
                    await self._tidy(job, self._latest.get(job.key, record))
            raise
        finally:
            self._creating.discard(job.key)
            self._latest.pop(job.key, None)
        return record

    async def _recover(self, record: JobRecord, exc: Exception, failures: int) -> JobRecord:
        """After a failed step (``record`` holds any intent it saved): retry later, or stop."""
        if is_transient(exc) and failures <= self._retry.retries:
            logger.info("job %s: %s; retrying", record.key, _describe(exc))
            await anyio.sleep(self._retry.delay(failures))
            return record
        if is_transient(exc) and record.state in (RENDERING, RENDER_SENT):
            return await self._save(record, state=TIMED_OUT, error=_describe(exc))
        return await self._fail(record, exc)

    async def _save(self, record: JobRecord, **changes: object) -> JobRecord:
        new = record.moved(**changes)
        await self._writer.save(new)
        self._latest[new.key] = new
        if new.state != record.state:
            self._on_move(record.state, new.state)
        return new

    async def _fail(self, record: JobRecord, exc: Exception) -> JobRecord:
        if not isinstance(exc, (APIStatusError, APIConnectionError, GenerationFailedError)):
            logger.error("job %s failed unexpectedly", record.key, exc_info=exc)
        video = getattr(exc, "resource", None)
        status = video.status if isinstance(video, Video) else record.video_status
        return await self._save(
            record, state=FAILED, error=_describe(exc), video_status=status, finished_at=time.time()
        )

    async def _start(self, job: Job, record: JobRecord) -> JobRecord:
        await self._uploads.resolve(job)  # before the intent: a failed upload creates nothing
        record = await self._save(
            record, state=CREATING, started_at=time.time(), attempts=record.attempts + 1
        )
        if self._recheck:  # the journal may have lost the saves of a create that landed
            return await self._reconcile_create(job, record)
        return await self._create(job, record)

    async def _create(self, job: Job, record: JobRecord) -> JobRecord:
        asset_ids = await self._uploads.resolve(job)
        arguments = job.create_arguments(asset_ids, self._batch)
        if self._fence is None:
            video = await self._client.videos.create(**arguments)
            return await self._created(record, video)
        await self._fence(job.key)  # our claim is live, its lease covers the request
        self._creating.add(job.key)
        video = await self._client.videos.create(**arguments, **self._paid)
        # A create that raced another (a worker frozen past its lease): keep one.
        kept = min(await self._candidates(job, record, video), key=seniority)
        if kept.id != video.id:
            await self._delete_idle(job, [video], kept)
        return await self._adopt(record, kept)

    async def _candidates(
        self, job: Job, record: JobRecord, made: Video | None = None
    ) -> list[Video]:
        """This batch's (and its family's) videos of ``job``, retired ones left out."""
        retired = record.retired_ids
        found = await self._client.videos.list(extras_filter={JOB_KEY_EXTRA: job.key}).to_list()
        videos = [v for v in found if self._ours(v) and v.id not in retired]
        if made is not None and all(video.id != made.id for video in videos):
            videos.append(made)  # a listing that lags the create
        return videos

    async def _delete_idle(self, job: Job, videos: list[Video], kept: Video) -> None:
        """Delete the IDLE videos among ``videos`` other than ``kept`` (creating is free)."""
        for video in videos:
            if video.id == kept.id or video.status != "IDLE":
                continue
            logger.warning(
                "job %s: deleting extra IDLE video %s (keeping %s)", job.key, video.id, kept.id
            )
            try:
                await self._client.videos.delete(video.id)
            except ArgilError as exc:  # left IDLE: never rendered, and lookups keep the other
                logger.warning("job %s: could not delete video %s: %s", job.key, video.id, exc)

    async def _tidy(self, job: Job, record: JobRecord) -> None:
        """The claim was lost (or the job cancelled) after this worker sent a create: delete
        the job's IDLE videos but the one every worker keeps (which the job's new owner
        adopts). The kept one is the oldest IDLE video or the one under way, and a late create
        is newer, so the video the new owner holds is never deleted."""
        try:
            videos = await self._candidates(job, record)
            if videos:
                await self._delete_idle(job, videos, min(videos, key=seniority))
        except ArgilError as exc:
            logger.warning("job %s: could not check its videos: %s", job.key, exc)

    async def _adopt(self, record: JobRecord, video: Video) -> JobRecord:
        record = await self._created(record, video)
        self._creating.discard(record.key)  # saved under our claim: no stray of ours left
        if video.status != "IDLE":  # its render landed too
            return await self._rendering(record, video)
        return record

    async def _created(self, record: JobRecord, video: Video) -> JobRecord:
        return await self._save(
            record,
            state=CREATED,
            video_id=video.id,
            video_status=video.status,
            created_at=time.time(),
        )

    async def _reconcile_create(self, job: Job, record: JobRecord) -> JobRecord:
        if self._fence is not None:  # coordinated: keep one, delete the extra IDLE ones
            videos = await self._candidates(job, record)
            if not videos:
                return await self._create(job, record)
            kept = min(videos, key=seniority)
            logger.info("job %s: adopted video %s made by an earlier attempt", job.key, kept.id)
            await self._delete_idle(job, videos, kept)
            return await self._adopt(record, kept)
        retired = record.retired_ids
        adopted = await find_existing(  # the lookup videos.create(idempotency_key=) uses
            self._client.videos,
            {JOB_KEY_EXTRA: job.key},
            lambda video: self._ours(video) and video.id not in retired,
        )
        if adopted is None:
            return await self._create(job, record)
        logger.info("job %s: adopted video %s created by an earlier attempt", job.key, adopted.id)
        record = await self._created(record, adopted)
        if adopted.status != "IDLE":  # its render landed too (the journal lost that save)
            return await self._rendering(record, adopted)
        return record

    def _ours(self, video: Video) -> bool:
        """Whether ``video`` was made by this batch (journals from before carry no batch id),
        or by an earlier batch of its family (one lost from Redis)."""
        if self._batch is None:
            return True
        mark = (video.extras or {}).get(BATCH_EXTRA)
        if self._family is not None and isinstance(mark, str) and mark.startswith(self._family):
            return True
        return mark == self._batch

    async def _render(self, job: Job, record: JobRecord) -> JobRecord:
        record = await self._save(record, state=RENDERING)
        return await self._send_render(record)

    async def _send_render(self, record: JobRecord) -> JobRecord:
        video_id = _video_id(record)
        url = self._waiter.callback_url
        if url is not None:
            self._waiter.expect(video_id)
        if self._fence is not None:
            await self._fence(record.key)  # our claim is live, its lease covers the request
        try:
            video = await self._client.videos.render(video_id, callback_url=url, **self._paid)
        except BadRequestError:
            video = await self._client.videos.get(video_id)
            if video.status == "IDLE":
                raise  # refused for another reason (credits, ...): the job fails
        return await self._rendering(record, video)

    async def _rendering(self, record: JobRecord, video: Video) -> JobRecord:
        return await self._save(
            record, state=RENDER_SENT, video_status=video.status, render_sent_at=time.time()
        )

    async def _reconcile_render(self, job: Job, record: JobRecord) -> JobRecord:
        video = await rendered(self._client.videos, _video_id(record))  # as videos.render does
        if video is None:
            return await self._send_render(record)
        return await self._rendering(record, video)

    async def _wait(self, job: Job, record: JobRecord) -> JobRecord:
        try:
            video = await self._waiter.wait(_video_id(record))
        except WaitTimeoutError as exc:
            last = exc.last.status if isinstance(exc.last, Video) else record.video_status
            return await self._save(
                record, state=TIMED_OUT, error=_describe(exc), video_status=last
            )
        return await self._save(
            record,
            state=DONE,
            video_status=video.status,
            video_url=video.video_url,
            error=None,
            finished_at=time.time(),
        )


def _video_id(record: JobRecord) -> str:
    if record.video_id is None:  # the journal never leaves CREATED without an id
        raise RuntimeError(f"job {record.key}: state {record.state} without a video id")
    return record.video_id


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"

"""``run_batch(..., coordinator=RedisCoordinator(...))``: this process as one worker of a batch.

``concurrency`` tasks each claim a job, drive it with the same `JobDriver` as a
single-machine run (its saves go to Redis, fenced by the claim), and claim the next; when
the queue is empty they wait for the jobs other workers hold, taking over any whose claim
expires, until every job of the batch is finished. Then the results file is written for the
whole batch, and ``<results>.coordinator`` names the batch for ``argil batch status``.

Each task holds its claim's token (a context variable): its saves, and the fence checked
right before each create and render, carry it, so a task whose claim lapsed cannot act on
the job even when this same worker has claimed it again since. The progress shows the whole
batch's counts, read from Redis every few seconds. When the batch vanishes from Redis the
worker stops with BatchLostError, and its results file is written from what it knew (every
job: never fewer lines than it held), not from the emptied Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path
from typing import Literal

import anyio

from ..._client import AsyncArgil
from ..._redis import renew_periodically
from ..._seam import Timeout
from ...errors import ArgilError
from .._driver import JobDriver, RetrySettings
from .._jobs import Job
from .._layout import check_writable
from .._outcome import (
    BatchOptions,
    BatchSummary,
    Breaker,
    CallbackServer,
    finished_count,
    first_error,
    serve_callbacks,
)
from .._progress import Tracker, show_progress
from .._records import JobRecord
from .._results import write_results
from .._waiting import Waiter, WaitSettings
from ._coordinator import (
    BatchLostError,
    ClaimLostError,
    CoordinatorUnavailableError,
    RedisCoordinator,
    batch_family,
    coordinator_file,
)

__all__ = ["run_coordinated"]

logger = logging.getLogger("argil_async.batch")
#: The claim token of the job the current task drives.
_CLAIM: ContextVar[str] = ContextVar("argil_batch_claim", default="")
#: The longest a create or a render may take, retries included, when the client sets no
#: total timeout of its own: half the lease, at least this; the fence extends the claim's
#: lease past it.
_PAID_TOTAL = 10.0
_COUNTS_EVERY = 2.0  # seconds between two reads of the whole batch's counts


async def run_coordinated(
    client: AsyncArgil,
    jobs: list[Job],
    *,
    out: Path,
    concurrency: int,
    server: CallbackServer | None,
    progress: Literal["auto", "rich", "log", "off"],
    options: BatchOptions,
    coordinator: RedisCoordinator,
    retry_failed: bool = False,
    max_failures: int | None = None,
) -> BatchSummary:
    """Work on the coordinated batch until every job is finished; see the module doc."""
    started = time.monotonic()
    endpoint = options.endpoint or client.base_url
    try:
        # The results' folder first (made if missing): nothing is registered in Redis for a
        # run that could not write its results.
        await anyio.to_thread.run_sync(lambda: check_writable(out.parent, "the results file"))
        batch_id, records = await coordinator.open(jobs, endpoint, retry_failed=retry_failed)
    except BaseException:  # refused (another job file, another API) or unreachable
        with anyio.CancelScope(shield=True):
            await coordinator.aclose()
        raise
    await anyio.Path(coordinator_file(out)).write_text(f"{coordinator.batch}\n")
    worker = _Worker(client, coordinator, options, records, batch_id, max_failures)
    try:
        await worker.run({job.key: job for job in jobs}, concurrency, server, progress)
    finally:
        with anyio.CancelScope(shield=True):
            await worker.claims.release_all()
            try:  # the whole batch as it stands, whoever did each job
                final = await worker.final_records()
            finally:
                await coordinator.aclose()
            write_results(out, final.values(), batch_id)
    if worker.lost:  # the run ended normally, then the batch vanished before its last read
        raise BatchLostError(coordinator.batch)
    return BatchSummary(
        counts=dict(Counter(record.state for record in final.values())),
        finished_before=finished_count(records.values()),
        elapsed=time.monotonic() - started,
        results=out,
        journal=coordinator_file(out),
        callbacks=server is not None,
        stopped=worker.breaker.reason,
    )


class _Worker:
    """This process's share of the batch: claims, the driver, the progress counts."""

    def __init__(
        self,
        client: AsyncArgil,
        coordinator: RedisCoordinator,
        options: BatchOptions,
        records: Mapping[str, JobRecord],
        batch_id: str,
        max_failures: int | None = None,
    ) -> None:
        self.client = client
        self.coordinator = coordinator
        self.options = options
        self.batch_id = batch_id
        self.claims = Claims(coordinator)
        self.breaker = Breaker(max_failures)
        self.tracker = Tracker(Counter(record.state for record in records.values()))
        self.known = dict(records)  # every job's last record this worker saw or saved
        self.lost = False

    async def final_records(self) -> dict[str, JobRecord]:
        """The batch's records from Redis or, if the batch vanished, what this worker knew
        (``lost`` is then set): the results file never shrinks to an empty Redis."""
        try:
            return await self.coordinator.current()
        except BatchLostError:
            self.lost = True
            logger.error(
                "batch %s vanished from Redis: the results file keeps what this worker knew",
                self.coordinator.batch,
            )
            return self.known

    async def run(
        self,
        jobs: Mapping[str, Job],
        concurrency: int,
        server: CallbackServer | None,
        progress: Literal["auto", "rich", "log", "off"],
    ) -> None:
        """Drive claimed jobs with ``concurrency`` tasks until the batch is finished."""
        options = self.options
        async with serve_callbacks(server) as (receiver, url):
            settings = WaitSettings(options.timeout, options.poll_interval, options.check_interval)
            waiter = Waiter(self.client, settings, receiver, url)
            writer = ClaimedWriter(self.coordinator, self.known)  # a JobStore, no cast
            retry = RetrySettings(options.retries, options.retry_wait)
            paid = self._paid_timeout()
            cover = (paid.total or _PAID_TOTAL) + min(self.coordinator.lease_ttl, 5.0)
            driver = JobDriver(
                self.client, writer, waiter, retry, self.tracker.move, self.batch_id,
                recheck=True,  # Redis may lose its last second of saves (appendfsync everysec)
                family=batch_family(self.coordinator.batch or ""),
                fence=lambda key: self.coordinator.fence(key, _CLAIM.get(), cover=cover),
                paid_options={"timeout": paid},
            )  # fmt: skip
            helpers = [asyncio.ensure_future(self.claims.renew_forever())]
            if progress != "off":
                helpers.append(asyncio.ensure_future(self._count_forever()))
            try:
                async with show_progress(
                    self.tracker, progress, interval=options.progress_interval
                ):
                    await first_error([self._work(driver, jobs) for _ in range(concurrency)])
                    with contextlib.suppress(ArgilError):
                        await self._count()  # the last line shows the batch as it ended
            finally:
                for helper in helpers:
                    helper.cancel()
                await asyncio.gather(*helpers, return_exceptions=True)

    def _paid_timeout(self) -> Timeout:
        """Creates and renders get a total deadline, so that the fence's lease covers them."""
        timeout = self.client.timeout
        default = max(self.coordinator.lease_ttl / 2, _PAID_TOTAL)
        return replace(timeout, total=timeout.total or default)

    async def _count_forever(self) -> None:
        """The whole batch's counts into the progress, every few seconds."""
        while True:
            await anyio.sleep(_COUNTS_EVERY)
            with contextlib.suppress(ArgilError):  # the workers notice a lost batch
                await self._count()

    async def _count(self) -> None:
        self.tracker.replace(await self.coordinator.counts())

    async def _work(self, driver: JobDriver, jobs: Mapping[str, Job]) -> None:
        """Claim and drive jobs until the batch is finished (or this worker's ``max_failures``
        jobs failed in a row: it then claims no more, and the others go on)."""
        while self.breaker.reason is None:
            claimed_at = anyio.current_time()
            record, held, wait = await self.coordinator.claim()
            if record is None:
                if held == 0:
                    return  # every job of the batch is finished
                await anyio.sleep(min(max(wait, 0.05), 1.0))  # others' jobs may come back
                continue
            _CLAIM.set(self.coordinator.claim_of(record.key))  # this task's, until the next
            final = await self._drive(driver, jobs[record.key], record, claimed_at)
            if final is not None:
                self.breaker.record(final.state)

    async def _drive(
        self, driver: JobDriver, job: Job, record: JobRecord, claimed_at: float
    ) -> JobRecord | None:
        """The job's last record, or None when another worker has it now."""
        final = None
        claim = _CLAIM.get()
        with self.claims.hold(job.key, claim, claimed_at) as scope:
            try:
                final = await driver.drive(job, record)
            except ClaimLostError:
                logger.warning("job %s: taken over by another worker", job.key)
        self.claims.drop(claim)
        if scope.cancelled_caught:
            logger.warning("job %s: claim not renewed in time; left to another worker", job.key)
        return final


class ClaimedWriter:
    """The coordinated run's `JobStore`: saves go to Redis, fenced by the
    claim of the task saving (ClaimLostError when another worker has the job now); ``known``
    keeps each saved record (the worker's own view)."""

    def __init__(
        self, coordinator: RedisCoordinator, known: dict[str, JobRecord] | None = None
    ) -> None:
        self._coordinator = coordinator
        self._known = known if known is not None else {}
        self.commits = 0

    async def save(self, record: JobRecord) -> None:
        """Save one record (the driver awaits this before every request it announces)."""
        await self._coordinator.save(record, _CLAIM.get() or None)
        self._known[record.key] = record
        self.commits += 1

    async def aclose(self) -> None:
        """Nothing is queued: every save is one script call."""


class Claims:
    """This worker's claims (by token), renewed in the background; a job whose claim could
    not be renewed in time is cancelled before the claim expires (another worker may take it)."""

    def __init__(self, coordinator: RedisCoordinator) -> None:
        self._coordinator = coordinator
        self._ttl = coordinator.lease_ttl
        self._held: dict[str, tuple[str, anyio.CancelScope]] = {}  # claim -> (key, scope)

    def hold(self, key: str, claim: str, claimed_at: float) -> anyio.CancelScope:
        """A cancel scope for driving ``key``, due a third of the TTL before its claim ends."""
        scope = anyio.CancelScope(deadline=claimed_at + self._ttl * 2 / 3)
        self._held[claim] = (key, scope)
        return scope

    def drop(self, claim: str) -> None:
        """The job is finished or abandoned here."""
        self._held.pop(claim, None)

    async def renew_forever(self) -> None:
        """Every third of the TTL, renew every claim; push each job's deadline on."""
        await renew_periodically(self._ttl / 3, self._renew_once)

    async def _renew_once(self) -> bool:
        held = list(self._held.items())
        sent = anyio.current_time()
        try:
            renewed = await self._coordinator.renew(
                [key for _, (key, _) in held], [claim for claim, _ in held]
            )
        except CoordinatorUnavailableError as exc:
            logger.warning("cannot renew %d claims (%s); retrying", len(held), exc)
            return True
        except BatchLostError:  # every job stops; the tasks' next claim says why
            for _, scope in self._held.values():
                scope.deadline = -1.0
            return False
        for (_, (_, scope)), kept in zip(held, renewed, strict=True):
            scope.deadline = sent + self._ttl * 2 / 3 if kept else -1.0
        return True  # for as long as the worker runs

    async def release_all(self) -> None:
        """Hand back every claim still held (the run is stopping)."""
        held, self._held = list(self._held.items()), {}
        with anyio.move_on_after(5, shield=True), contextlib.suppress(ArgilError):
            await self._coordinator.release(
                [key for _, (key, _) in held], [claim for claim, _ in held]
            )

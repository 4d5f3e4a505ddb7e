"""``run_batch(..., coordinator=RedisCoordinator(...))``: this process as one worker of a batch.

``concurrency`` tasks each claim a job, drive it with the same :class:`JobDriver` as a
single-machine run (its saves go to Redis, fenced by the claim), and claim the next; when
the queue is empty they wait for the jobs other workers hold, taking over any whose claim
expires, until every job of the batch is finished. Then the results file is written for the
whole batch, and ``<results>.coordinator`` names the batch for ``argil batch status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import anyio

from ..._client import AsyncArgil
from ..._redis import renew_periodically
from ...errors import ArgilError
from .._driver import JobDriver, RetrySettings
from .._jobs import Job
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
    ClaimLostError,
    CoordinatorUnavailableError,
    RedisCoordinator,
    coordinator_file,
)

__all__ = ["run_coordinated"]

logger = logging.getLogger("argil_async.batch")


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
                final = await coordinator.records()
                write_results(out, final.values(), batch_id)
            finally:
                await coordinator.aclose()
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
            writer = ClaimedWriter(self.coordinator)  # a JobStore, as the SQLite journal's
            retry = RetrySettings(options.retries, options.retry_wait)
            driver = JobDriver(
                self.client, writer, waiter, retry, self.tracker.move, self.batch_id,
                recheck=True,  # Redis may lose its last second of saves (appendfsync everysec)
            )  # fmt: skip
            renewer = asyncio.ensure_future(self.claims.renew_forever())
            try:
                async with show_progress(
                    self.tracker, progress, interval=options.progress_interval
                ):
                    await first_error([self._work(driver, jobs) for _ in range(concurrency)])
            finally:
                renewer.cancel()
                await asyncio.gather(renewer, return_exceptions=True)

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
            final = await self._drive(driver, jobs[record.key], record, claimed_at)
            if final is not None:
                self.breaker.record(final.state)

    async def _drive(
        self, driver: JobDriver, job: Job, record: JobRecord, claimed_at: float
    ) -> JobRecord | None:
        """The job's last record, or None when another worker has it now."""
        final = None
        with self.claims.hold(job.key, claimed_at) as scope:
            try:
                final = await driver.drive(job, record)
            except ClaimLostError:
                logger.warning("job %s: taken over by another worker", job.key)
        self.claims.drop(job.key)
        if scope.cancelled_caught:
            logger.warning("job %s: claim not renewed in time; left to another worker", job.key)
        return final


class ClaimedWriter:
    """The coordinated run's :class:`~._records.JobStore`: saves go to Redis, fenced by the
    worker's claim (ClaimLostError when another worker has the job now)."""

    def __init__(self, coordinator: RedisCoordinator) -> None:
        self._coordinator = coordinator
        self.commits = 0

    async def save(self, record: JobRecord) -> None:
        """Save one record (the driver awaits this before every request it announces)."""
        await self._coordinator.save(record)
        self.commits += 1

    async def aclose(self) -> None:
        """Nothing is queued: every save is one script call."""


class Claims:
    """This worker's claimed jobs, renewed in the background; a job whose claim could not be
    renewed in time is cancelled before the claim expires (another worker may take it)."""

    def __init__(self, coordinator: RedisCoordinator) -> None:
        self._coordinator = coordinator
        self._ttl = coordinator.lease_ttl
        self._scopes: dict[str, anyio.CancelScope] = {}

    def hold(self, key: str, claimed_at: float) -> anyio.CancelScope:
        """A cancel scope for driving ``key``, due a third of the TTL before its claim ends."""
        scope = anyio.CancelScope(deadline=claimed_at + self._ttl * 2 / 3)
        self._scopes[key] = scope
        return scope

    def drop(self, key: str) -> None:
        """The job is finished or abandoned here."""
        self._scopes.pop(key, None)

    async def renew_forever(self) -> None:
        """Every third of the TTL, renew every claim; push each job's deadline on."""
        await renew_periodically(self._ttl / 3, self._renew_once)

    async def _renew_once(self) -> bool:
        keys = list(self._scopes)
        sent = anyio.current_time()
        try:
            renewed = await self._coordinator.renew(keys)
        except CoordinatorUnavailableError as exc:
            logger.warning("cannot renew %d claims (%s); retrying", len(keys), exc)
            return True
        for key, kept in zip(keys, renewed, strict=True):
            scope = self._scopes.get(key)
            if scope is not None:
                scope.deadline = sent + self._ttl * 2 / 3 if kept else -1.0
        return True  # for as long as the worker runs

    async def release_all(self) -> None:
        """Hand back every claim still held (the run is stopping)."""
        keys, self._scopes = list(self._scopes), {}
        with anyio.move_on_after(5, shield=True), contextlib.suppress(ArgilError):
            await self._coordinator.release(keys)

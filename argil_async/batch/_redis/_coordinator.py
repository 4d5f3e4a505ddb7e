"""``RedisCoordinator``: one batch run by several workers, on several machines, through Redis.

The journal moves into Redis: every job's `JobRecord` lives in a hash, and a worker
drives a job only while it holds a *claim* on it (a lease it renews every third of
``lease_ttl``). Each save is fenced by the claim (`_scripts`), and a worker
that cannot renew a claim stops driving that job before the claim can expire, so no two
workers ever act on one job at once. A worker that dies stops renewing; once its claims expire
their jobs go back to the front of the queue, and whoever takes one over resumes it from its
saved state exactly as a resumed single-machine run does (intent states are reconciled by the
job key in the video's extras, renders by the video's status). Every worker stays until every
job is finished, so a job is never left behind, and then writes the whole batch's results.

Durability: the journal is only as durable as Redis. Run it with ``appendonly yes`` and
``appendfsync always`` to lose nothing; with ``everysec`` (Redis' default for AOF) a crash
of Redis itself can lose the last second of saves: a job whose create or render landed may
come back PENDING or CREATED. So the workers' driver runs with ``recheck``: a PENDING job
looks its video up by job key and batch id before creating (adopting it, rendered if it left
IDLE), and a job resumed at CREATED checks the video's status before rendering; nothing is
created or rendered twice. A finished state that was lost costs one GET.

Without persistence (no AOF, no RDB), a Redis restart loses the batch itself, as do a
``FLUSHALL`` and an eviction. Every script checks the batch's epoch (its batch id), so the
workers notice at their next claim, save or renewal and stop with
[`BatchLostError`][argil_async.batch.BatchLostError] (the CLI exits 1); none reports a batch it did
not finish as done, and none rewrites its results file with less than it knew. The next run starts
the batch again under a new batch id of the same *family* (a prefix derived from the batch name),
and its driver adopts any video whose extras carry the job key and a batch id of that family: the
videos the lost batch made are found again, rendered if they had left IDLE, and nothing is made
twice.

Fencing: each claim carries a token. Right before a create or a render is sent, the worker
confirms in Redis ([`RedisCoordinator.fence()`][argil_async.batch.RedisCoordinator.fence],
atomically) that its claim is still live and extends its lease to cover the request's whole timeout;
a worker that stalled past its lease (SIGSTOP, a long pause) sends nothing. Between that check and
the request reaching Argil there is a window no client-side check can close: a worker frozen exactly
there sends its render late, and only Argil refusing to render a video that is no longer IDLE stops
it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import msgspec

from ... import _validation as check
from ..._redis import RedisLink, check_redis, retry_budget
from ...errors import RedisError, RedisUnavailableError
from .._jobs import Job
from .._records import FAILED, FINISHED, JobRecord, retried
from .._results import BatchStatus, result_line, status_of_records, write_results
from .._state import JobResult
from . import _scripts as scripts

if TYPE_CHECKING:  # redis is an optional extra: imported when a coordinator connects
    import redis.asyncio as aioredis

__all__ = [
    "BatchLostError",
    "BatchMismatchError",
    "ClaimLostError",
    "CoordinatorUnavailableError",
    "RedisCoordinator",
    "coordinator_file",
]

logger = logging.getLogger("argil_async.batch")
_ENCODER = msgspec.json.Encoder()
_PARTS = ("meta", "records", "states", "queue", "claims", "owners")
_CHANGED = (
    "holds other jobs (the job file has changed): give edited jobs new keys, retry edited "
    "failed jobs with --retry-failed while no worker runs the batch, or name another batch "
    "with --batch"
)


class CoordinatorUnavailableError(RedisUnavailableError):
    """The batch coordinator's Redis could not be reached, also after retrying through a brief
    outage (for a quarter of ``lease_ttl``, at most 10 s). A
    [`RedisError`][argil_async.errors.RedisError]: Argil itself may be fine."""


class ClaimLostError(RedisError):
    """This worker no longer holds the job's claim: another worker has taken it over."""


class BatchMismatchError(RedisError):
    """The batch of this name in Redis cannot serve this run: it was run against another API
    endpoint, or it holds other jobs (the job file changed). Raised before anything is sent
    (the CLI exits 2); ``field`` is the batch's name, ``rule`` what does not match.

    The coordinated twin of a SQLite run's ``JournalError`` (which it used to be): the state
    that refuses the run is in Redis, not on this machine's disk.
    """

    def __init__(self, field: str, rule: str) -> None:
        self.field = field
        self.rule = rule
        super().__init__(f"{field}: {rule}")


class BatchLostError(RedisError):
    """The batch vanished from Redis while this worker ran it (Redis restarted without
    persistence, was flushed, or evicted its keys).

    The worker stops (the CLI exits 1) without counting the batch as finished; run it again:
    the new run adopts the videos the lost batch made (found by job key and batch name), and
    renders nothing twice.
    """

    def __init__(self, batch: str | None) -> None:
        super().__init__(
            f"batch {batch!r} vanished from Redis (a restart without persistence, a FLUSHALL or "
            "an eviction): this worker stopped; run it again to finish the batch (the videos "
            "already made are found by job key and adopted)"
        )
        self.batch = batch


class RedisCoordinator:
    """Where the workers of one batch meet: a Redis URL (or client) and the batch's name.

    ``batch`` names the batch; by default it is derived from the job file's keys and contents,
    so the same file started on several machines joins one batch. ``lease_ttl`` is how long a
    dead worker's jobs wait before another worker takes them over. Example:

    ```python
    coordinator = RedisCoordinator("redis://queue:6379/0")
    summary = await run_batch(client, jobs, out="results.jsonl", coordinator=coordinator)
    ```
    """

    def __init__(
        self,
        redis: str | aioredis.Redis,
        *,
        batch: str | None = None,
        lease_ttl: float = 120.0,
    ) -> None:
        check_redis("coordinator", redis)
        if batch is not None:
            check.printable("batch", batch, max_length=200)
        check.number("lease_ttl", lease_ttl, low=1)  # seconds; NaN and infinity are refused
        self._redis = redis
        self.batch = batch
        self.lease_ttl: float = float(lease_ttl)
        self.worker: str = f"{uuid.uuid4().hex[:12]}"
        self._store = RedisLink(
            redis,
            {name: getattr(scripts, name) for name in scripts.__all__},
            retry_for=retry_budget(self.lease_ttl),
            unavailable=CoordinatorUnavailableError,
        )
        self._keys: list[str] = [] if batch is None else _keys_of(batch)
        self._epoch = ""  # the batch id open() returned: every script checks it
        self._claims: dict[str, str] = {}  # job key -> this worker's latest claim on it
        self._claiming = asyncio.Lock()

    def __repr__(self) -> str:
        return f"RedisCoordinator(batch={self.batch!r}, worker={self.worker!r})"

    @classmethod
    def for_results(
        cls,
        redis: str | aioredis.Redis,
        results: str | os.PathLike[str],
        *,
        lease_ttl: float = 120.0,
    ) -> RedisCoordinator:
        """The coordinator of the batch a coordinated run wrote ``results`` for.

        The run notes its batch name beside the results (``results.jsonl.coordinator``), so
        an operator can follow the batch from the file alone. InvalidRequestError when no
        coordinated run wrote there. Example:

        ```python
        async with RedisCoordinator.for_results(redis_url, "results.jsonl") as coordinator:
            print(await coordinator.status())
        ```
        """
        note = coordinator_file(results)
        try:
            batch = note.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):  # absent, unreadable, or damaged
            batch = ""
        if not batch:
            raise check.fail(str(note), "must name the batch (give the batch's name)")
        return cls(redis, batch=batch, lease_ttl=lease_ttl)

    async def __aenter__(self) -> RedisCoordinator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def status(self) -> BatchStatus:
        """Where the whole batch stands, whoever did each job (read from Redis).

        The coordinated twin of [`read_status()`][argil_async.batch.read_status];
        InvalidRequestError when this Redis holds no batch of that name. Example:

        ```python
        async with RedisCoordinator(redis_url, batch="jobs-3f2a...") as coordinator:
            status = await coordinator.status()
        print(status.done, "of", status.total)
        ```
        """
        return status_of_records(await self._current("status"))

    async def results(self) -> list[JobResult]:
        """Every job of the whole batch as a [`JobResult`][argil_async.batch.JobResult], in job-file
        order, now.

        The merged results of all the workers, live during a run (the coordinated twin of
        [`read_results()`][argil_async.batch.read_results]); InvalidRequestError when this Redis
        holds no batch of that name. Example:

        ```python
        async with RedisCoordinator.for_results(redis_url, "results.jsonl") as coordinator:
            failed = [r for r in await coordinator.results() if r.status == "FAILED"]
        ```
        """
        records, batch_id = await self._batch_records()
        return [JobResult.from_line(result_line(record, batch_id)) for record in records]

    async def write_results(self, path: str | os.PathLike[str]) -> int:
        """Write the whole batch's results file (JSONL, atomically) to ``path``; the job count.

        Every worker writes one when the batch ends; this writes one at any time, e.g. for an
        operator while the workers run: ``await coordinator.write_results("merged.jsonl")``.
        """
        records, batch_id = await self._batch_records()
        await anyio.to_thread.run_sync(lambda: write_results(Path(path), records, batch_id))
        return len(records)

    async def _batch_records(self) -> tuple[list[JobRecord], str | None]:
        current = await self._current("results")
        batch_id = await self._command(lambda client: client.hget(self._keys[0], "batch"))
        return current, None if batch_id is None else _text(batch_id)

    async def _current(self, what: str) -> list[JobRecord]:
        """The records of the job file's jobs; InvalidRequestError when there is no batch."""
        if self.batch is None:
            raise check.fail("batch", f"must be given to read a batch's {what}")
        records = await self.records()
        if not records:
            raise check.fail("batch", "must name a batch in this Redis", self.batch)
        return [record for record in records.values() if record.seq >= 0]

    async def open(
        self, jobs: Sequence[Job], endpoint: str, *, retry_failed: bool = False
    ) -> tuple[str, dict[str, JobRecord]]:
        """Create the batch, or join it; return its batch id and every job's record.

        With ``retry_failed``, joining while no worker holds a job puts the FAILED jobs back
        to PENDING (edited or not), their videos retired, as ``run_batch`` does: workers
        started together retry each failed job once.
        """
        self.batch = self.batch or default_batch_name(jobs)
        self._keys = _keys_of(self.batch)
        stale, retries = await self._retries(jobs) if retry_failed else ("", [])
        pairs: list[str] = []
        for seq, job in enumerate(jobs):
            record = JobRecord(job.key, seq, job.line, job.fingerprint()).moved()
            pairs += [job.key, _encode(record)]
        digest = _digest((job.key, job.fingerprint()) for job in jobs)
        batch_id = f"{batch_family(self.batch)}{uuid.uuid4().hex}"
        outcome = await self._call(
            "INIT", endpoint, digest, batch_id, stale, len(jobs), *pairs, *retries
        )
        kind, value, retried = (_text(part) for part in outcome)
        if kind == "endpoint":
            raise BatchMismatchError(self.batch, f"was run against {value}, not {endpoint}")
        if kind == "digest":
            raise BatchMismatchError(self.batch, _CHANGED)
        if int(retried):
            logger.info("batch %s: %s failed jobs put back to be retried", self.batch, retried)
        self._epoch = value
        return value, await self.current()

    async def _retries(self, jobs: Sequence[Job]) -> tuple[str, list[str]]:
        """INIT's retry arguments: the digest that the job file may replace (when only failed
        jobs were edited, else ''), and each FAILED job's key and retried record."""
        known = await self.records()
        pairs: list[str] = []
        for seq, job in enumerate(jobs):
            record = known.get(job.key)
            if record is not None and record.state == FAILED:
                pairs += [job.key, _encode(retried(job, seq, record))]
        same_keys = [job.key for job in jobs] == list(known)
        edited_started = any(
            known[job.key].fingerprint != job.fingerprint() and known[job.key].state != FAILED
            for job in jobs
            if job.key in known
        )
        if not same_keys or edited_started:
            return "", pairs
        return _digest((record.key, record.fingerprint) for record in known.values()), pairs

    async def records(self) -> dict[str, JobRecord]:
        """Every job's latest record, by key, in file order."""
        raw = await self._command(lambda client: client.hgetall(self._keys[1]))
        records = [msgspec.json.decode(value, type=JobRecord) for value in raw.values()]
        return {record.key: record for record in sorted(records, key=lambda r: r.seq)}

    async def current(self) -> dict[str, JobRecord]:
        """Every job's latest record, by key, in file order, from the batch this worker opened;
        BatchLostError when it has vanished from Redis."""
        raw = await self._call("RECORDS")
        records = [msgspec.json.decode(value, type=JobRecord) for value in raw[1::2]]
        return {record.key: record for record in sorted(records, key=lambda r: r.seq)}

    async def claim(self) -> tuple[JobRecord | None, int, float]:
        """Claim the next job: (its record, 0, 0), or (None, claims held, seconds to wait).

        The claim's token is [`claim_of()`][argil_async.batch.RedisCoordinator.claim_of] the job's
        key until this worker claims it again.
        """
        async with self._claiming:  # one CLAIM at a time: a sweep then sees every claim
            failures = self._store.failures
            key, *rest = await self._call("CLAIM", self.worker, int(self.lease_ttl * 1000))
            if self._store.failures != failures:  # retried: an attempt may have claimed a job
                await self._give_back_unknown_claims(_text(key))
        if _text(key):
            self._claims[_text(key)] = _text(rest[1])
            before = _text(rest[2]).lstrip("~").partition(":")[0]
            if before:
                logger.info(
                    "job %s: taken over by worker %s from worker %s (its claim lapsed or was "
                    "given back)", _text(key), self.worker, before,
                )  # fmt: skip
            return msgspec.json.decode(rest[0], type=JobRecord), 0, 0.0
        return None, int(rest[0]), max(int(rest[1]), 0) / 1000

    async def counts(self) -> Counter[str]:
        """How many jobs of the whole batch are in each state, now (BatchLostError when the
        batch has vanished)."""
        return Counter(_text(state) for state in await self._call("STATES"))

    def claim_of(self, key: str) -> str:
        """The token of this worker's latest claim on ``key`` ('' if it never claimed it)."""
        return self._claims.get(key, "")

    async def save(self, record: JobRecord, claim: str | None = None) -> None:
        """Save ``record`` if ``claim`` (by default this worker's latest claim on the job) is
        still live; ClaimLostError otherwise."""
        finished = "1" if record.state in FINISHED else "0"
        claim = self.claim_of(record.key) if claim is None else claim
        saved = await self._call("SAVE", claim, record.key, _encode(record), record.state, finished)
        if not saved:
            raise ClaimLostError(f"job {record.key}: claimed by another worker meanwhile")

    async def fence(self, key: str, claim: str | None = None, *, cover: float = 0.0) -> None:
        """Right before a create or a render: ClaimLostError unless ``claim`` is still live.

        Its lease is extended to at least ``cover`` seconds from now (the request's whole
        timeout), so that no other worker can take the job over while the request may run.
        """
        claim = self.claim_of(key) if claim is None else claim
        ttl = int(max(cover, self.lease_ttl) * 1000)
        if not await self._call("FENCE", claim, key, ttl):
            raise ClaimLostError(f"job {key}: claim lost before a request; nothing sent")

    async def renew(self, keys: Sequence[str], claims: Sequence[str] | None = None) -> list[bool]:
        """Extend the claims on ``keys`` (by default this worker's latest); False where lost."""
        if not keys:
            return []
        claims = [self.claim_of(key) for key in keys] if claims is None else claims
        pairs = [part for pair in zip(keys, claims, strict=True) for part in pair]
        renewed = await self._call("RENEW", int(self.lease_ttl * 1000), *pairs)
        return [bool(flag) for flag in renewed]

    async def _give_back_unknown_claims(self, claimed: str) -> None:
        """Give back this worker's live claims it does not know of: a CLAIM that ran in Redis
        but whose answer was lost (the connection dropped) before the retry that answered.
        Without this the job would wait for that claim's lease to lapse (``lease_ttl``)."""
        owners = await self._command(lambda client: client.hgetall(self._keys[5]))
        mine = f"{self.worker}:"
        pairs: list[str] = []
        for raw_key, raw_owner in owners.items():
            key, owner = _text(raw_key), _text(raw_owner)
            if owner.startswith(mine) and key != claimed and self._claims.get(key) != owner:
                pairs += [key, owner]
        if pairs:
            logger.info("%d claims lost in a Redis outage given back", len(pairs) // 2)
            await self._call("RELEASE", *pairs)

    async def release(self, keys: Iterable[str], claims: Iterable[str] | None = None) -> None:
        """Give unfinished claims back at once (a worker stopping early)."""
        keys = list(keys)
        claims = [self.claim_of(key) for key in keys] if claims is None else list(claims)
        pairs = [part for pair in zip(keys, claims, strict=True) for part in pair]
        if keys:
            await self._call("RELEASE", *pairs)

    async def aclose(self) -> None:
        """Close the Redis client made from a URL."""
        await self._store.aclose()

    async def _call(self, script: str, *args: str | int) -> Any:
        """Run a coordinator script, retried through a brief outage (``argil_async._redis``);
        every one but INIT first checks the batch's epoch (BatchLostError when it is gone)."""
        first = [] if script == "INIT" else [self._epoch]
        try:
            return await self._store.script(script, self._keys, [*first, *args])
        except CoordinatorUnavailableError as exc:
            if scripts.LOST in str(exc.__cause__):
                raise BatchLostError(self.batch) from None
            raise

    async def _command(self, command: Any) -> Any:
        """Run a Redis command, retried through a brief outage."""
        return await self._store.call(command)


def coordinator_file(results: str | os.PathLike[str]) -> Path:
    """Where a coordinated run notes its batch name: ``results.jsonl.coordinator``."""
    path = Path(results)
    return path.with_name(path.name + ".coordinator")


def batch_family(batch: str) -> str:
    """The prefix of every batch id the batch named ``batch`` gets, run after run.

    A batch lost from Redis is started again under a new id of the same family, and its
    videos (their extras carry the batch id) are found again by job key and family.
    """
    return f"c{hashlib.sha256(batch.encode()).hexdigest()[:15]}-"


def _keys_of(batch: str) -> list[str]:
    return [f"argil:batch:{{{batch}}}:{part}" for part in _PARTS]


def default_batch_name(jobs: Sequence[Job]) -> str:
    """The name a job file's batch gets when none is given: from its job keys alone.

    An edited job file (same keys) is the same batch, which refuses the edits of started
    jobs instead of starting a second batch that would make every video again.
    """
    return f"jobs-{_digest((job.key, '') for job in jobs)[:20]}"


def _digest(pairs: Iterable[tuple[str, str]]) -> str:
    """A digest of (job key, fingerprint) pairs in file order."""
    digest = hashlib.sha256()
    for key, fingerprint in pairs:
        digest.update(f"{key}\0{fingerprint}\n".encode())
    return digest.hexdigest()


def _encode(record: JobRecord) -> str:
    return _ENCODER.encode(record).decode()


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

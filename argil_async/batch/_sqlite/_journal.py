"""The journal: one SQLite row per job, committed at every state change, so a run can resume.

Each row is a job's `JobRecord` (its states are listed in ``_records``); an
*intent* is written and committed before the request it announces.

The file is ``.argil-batch/<results>.journal`` beside the results file (see ``_layout``), in
WAL mode with
``synchronous=FULL``: a commit survives SIGKILL and power loss alike. Commits are made on a
worker thread, never on the event loop, and grouped: every transition queued while one commit
is on the disk goes into the next (see `JournalWriter`), so hundreds of concurrent jobs
share a few fsyncs a second. The ``meta`` table remembers which API the journal was written
against; resuming against another one is refused (its videos would not be found there), and
the batch id its videos carry in their extras. Jobs no longer in the job file keep their rows
(with ``seq`` -1), so that they resume if they come back, but leave the status. A lock file
keeps a second run off the journal while one is running. A job retried after a failure
(``retry_failed``) goes back to PENDING and keeps the ids of its earlier videos in
``retired``, so that reconciliation never adopts them.

The runner uses a journal through `Journal.prepare()`, `Journal.records()`,
`Journal.save()` (through a `JournalWriter`, the SQLite
`JobStore`), `Journal.batch` and `Journal.close()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import sys
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import anyio

from .._jobs import Job
from .._layout import JournalError, journal_path
from .._records import COLUMNS, FAILED, PENDING, JobRecord, as_row, retried

__all__ = [
    "Journal",
    "JournalError",
    "JournalWriter",
    "journal_path",
    "reading",
]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
    key TEXT PRIMARY KEY, seq INTEGER NOT NULL, line INTEGER NOT NULL,
    fingerprint TEXT NOT NULL, state TEXT NOT NULL, video_id TEXT, video_status TEXT,
    video_url TEXT, error TEXT, attempts INTEGER NOT NULL DEFAULT 0, started_at REAL,
    created_at REAL, render_sent_at REAL, finished_at REAL, updated_at REAL NOT NULL,
    retired TEXT
);
"""
_SQLITE_HEADER = b"SQLite format 3\x00"


class Journal:
    """The SQLite file. Not thread-safe: one thread at a time (JournalWriter ensures it).

    A file that is not a journal, or one that cannot be opened for writing, gives a
    [`JournalError`][argil_async.batch.JournalError] naming it; an empty file is an empty journal.
    """

    def __init__(self, path: Path, *, readonly: bool = False, lock: Path | None = None) -> None:
        self.path = path
        self._lock: _RunLock | None = None
        _check_header(path)
        if readonly:
            uri = f"{path.resolve().as_uri()}?mode=ro"
            self._db = _connect(
                path, lambda: sqlite3.connect(uri, uri=True, check_same_thread=False)
            )
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(str(path.parent), f"cannot be created: {exc.strerror}") from None
        self._lock = _RunLock(lock or path.with_name(path.name + ".lock"))
        try:
            self._db = _connect(
                path, lambda: sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            )
            _setup(path, self._db)
        except BaseException:
            self._lock.release()
            raise

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (WAL content is checkpointed into the main file), unlock."""
        with contextlib.suppress(sqlite3.Error):  # a failed checkpoint keeps the WAL, not a loss
            self._db.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    @property
    def started(self) -> bool:
        """Whether this journal already holds a batch (its meta rows are written)."""
        return self.meta("endpoint") is not None

    def _has_jobs_table(self) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'"
        return self._db.execute(query).fetchone() is not None

    def meta(self, name: str) -> str | None:
        """A value of the meta table, or None."""
        if not self._has_jobs_table():
            return None
        row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def batch(self) -> str | None:
        """The id this journal's videos carry in their extras (None in journals from before)."""
        return self.meta("batch")

    def records(self) -> dict[str, JobRecord]:
        """Every job row, by key, in file order (none in a journal never prepared)."""
        return {record.key: record for record in self._select("")}

    def current(self) -> Iterator[JobRecord]:
        """The rows of the job file's jobs, in file order, read as they are used (a large
        batch is never all in memory)."""
        return self._select("WHERE seq >= 0")

    def counts(self) -> dict[str, int]:
        """How many of the job file's jobs are in each state."""
        query = "SELECT state, COUNT(*) FROM jobs WHERE seq >= 0 GROUP BY state"
        return dict(self._db.execute(query).fetchall()) if self._has_jobs_table() else {}

    def _select(self, where: str) -> Iterator[JobRecord]:
        if not self._has_jobs_table():
            return iter(())
        present = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        columns = ", ".join(c if c in present else "NULL" for c in COLUMNS)  # v0.1, read-only
        cursor = self._db.execute(f"SELECT {columns} FROM jobs {where} ORDER BY seq")
        return (JobRecord(*row) for row in cursor)

    def save(self, records: Sequence[JobRecord]) -> None:
        """Insert or replace ``records`` in one transaction (one commit, one fsync)."""
        marks = ", ".join("?" * len(COLUMNS))
        rows = [as_row(record) for record in records]
        with self._transaction():
            self._db.executemany(f"INSERT OR REPLACE INTO jobs VALUES ({marks})", rows)

    def prepare(
        self,
        jobs: Sequence[Job],
        endpoint: str,
        batch: str | None = None,
        *,
        retry_failed: bool = False,
    ) -> dict[str, JobRecord]:
        """Adopt ``jobs``: check the journal fits them, add the new ones; return their rows.

        A new journal takes ``batch`` as its batch id (a fresh one when None). With
        ``retry_failed`` the FAILED jobs start again (edited or not), their videos retired.
        """
        known = self.records()
        self._check_endpoint(endpoint)
        _check_unchanged(jobs, known, retry_failed)
        records = [
            _adopted(job, seq, known.get(job.key), retry_failed) for seq, job in enumerate(jobs)
        ]
        current = {job.key for job in jobs}
        dropped = [r.replaced(seq=-1) for k, r in known.items() if k not in current and r.seq != -1]
        changed = [record for record in records if known.get(record.key) is not record]
        with self._transaction():
            if self.meta("endpoint") is None:  # a new journal: its videos carry a new batch id
                new_batch = batch or uuid.uuid4().hex
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('batch', ?)", (new_batch,))
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('endpoint', ?)", (endpoint,))
            marks = ", ".join("?" * len(COLUMNS))
            rows = [as_row(record) for record in [*changed, *dropped]]  # the others are as saved
            self._db.executemany(f"INSERT OR REPLACE INTO jobs VALUES ({marks})", rows)
        return {record.key: record for record in records}

    def _check_endpoint(self, endpoint: str) -> None:
        previous = self.meta("endpoint")
        if previous is not None and previous != endpoint:
            raise JournalError(
                str(self.path),
                f"was written against {previous}, not {endpoint}: its videos live there; "
                "use another results path to start a new run",
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """One explicit transaction (the connection is in autocommit mode otherwise)."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _check_header(path: Path) -> None:
    """JournalError unless ``path`` is absent, empty or a SQLite database."""
    try:
        with path.open("rb") as stream:
            head = stream.read(len(_SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise JournalError(str(path), f"cannot be read: {exc.strerror or exc}") from None
    if head and head != _SQLITE_HEADER:
        raise JournalError(str(path), _NOT_A_JOURNAL)


_NOT_A_JOURNAL = (
    "is not a batch journal (damaged or overwritten); nothing was sent. Move it away: the "
    "next run then recovers the batch from its identity file and the API, by job key"
)


def _connect(path: Path, connect: Callable[[], sqlite3.Connection]) -> sqlite3.Connection:
    try:
        return connect()
    except sqlite3.Error as exc:
        raise JournalError(str(path), f"cannot be opened: {exc}") from None


def _setup(path: Path, db: sqlite3.Connection) -> None:
    """WAL, full sync, the schema (and the column v0.1 journals lack)."""
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(_SCHEMA)
        columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
        if "retired" not in columns:
            db.execute("ALTER TABLE jobs ADD COLUMN retired TEXT")
    except sqlite3.DatabaseError as exc:
        db.close()
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise JournalError(str(path), _NOT_A_JOURNAL) from None
        raise JournalError(str(path), f"cannot be written: {exc}; nothing was sent") from None


@contextlib.contextmanager
def reading(path: Path) -> Iterator[Journal]:
    """The journal at ``path``, read-only, for a reader beside a run (status, results).

    A damaged journal, or one whose first commit is under way, is a
    [`JournalError`][argil_async.batch.JournalError] naming it, whether opening it or reading it
    through this ``with`` fails.
    """
    try:
        with Journal(path, readonly=True) as journal:
            yield journal
    except sqlite3.Error as exc:
        raise JournalError(str(path), f"cannot be read: {exc}") from None


class _RunLock:
    """An exclusive lock on ``<journal>.lock`` for as long as a run writes the journal.

    Two runs on one journal would both create the same PENDING jobs. The operating system
    drops the lock when its process dies, SIGKILL included, so a crash never leaves it stale.
    """

    def __init__(self, path: Path) -> None:
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise JournalError(
                str(path), f"cannot be created: {exc.strerror or exc}; nothing was sent"
            ) from None
        try:
            _lock_fd(self._fd)
        except OSError:
            os.close(self._fd)
            raise JournalError(
                str(path), "another run is using this journal; wait for it or stop it"
            ) from None

    def release(self) -> None:
        """Unlock (closing the descriptor drops the lock)."""
        os.close(self._fd)


def _lock_fd(fd: int) -> None:
    """Lock ``fd`` exclusively without waiting; OSError if someone else holds it."""
    if sys.platform == "win32":
        import msvcrt

        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _adopted(job: Job, seq: int, known: JobRecord | None, retry_failed: bool) -> JobRecord:
    """The job's record: new, or the known one renumbered (and re-fingerprinted if PENDING),
    or, retried, the failed one back to PENDING with its video retired."""
    fingerprint = job.fingerprint()
    if known is None:
        return JobRecord(key=job.key, seq=seq, line=job.line, fingerprint=fingerprint).moved()
    if retry_failed and known.state == FAILED:
        return retried(job, seq, known)
    if (known.seq, known.line, known.fingerprint) == (seq, job.line, fingerprint):
        return known  # unchanged: not written again
    return known.replaced(seq=seq, line=job.line, fingerprint=fingerprint)


def _check_unchanged(jobs: Iterable[Job], known: dict[str, JobRecord], retry_failed: bool) -> None:
    """Refuse jobs edited since their video was (maybe) created: that video is the old job.

    A failed job may be edited when it is retried (its old video is retired)."""
    changed = [
        job.key
        for job in jobs
        if job.key in known
        and known[job.key].state != PENDING
        and not (retry_failed and known[job.key].state == FAILED)
        and known[job.key].fingerprint != job.fingerprint()
    ]
    if changed:
        shown = ", ".join(changed[:10]) + (" ..." if len(changed) > 10 else "")
        raise JournalError(
            "jobs",
            f"{len(changed)} started job(s) changed since the journal was written ({shown}); "
            "give edited jobs new keys, use --retry-failed for failed ones, "
            "or use another results path",
        )


class JournalWriter:
    """Saves records from the event loop with group commit on a worker thread.

    ``await writer.save(record)`` returns once the record is on disk. The first caller with no
    commit under way starts a flush task, which keeps committing whatever has queued up until
    the queue is empty; a cancelled caller does not cancel the commit it joined.
    """

    def __init__(self, journal: Journal) -> None:
        self._journal = journal
        self._queue: list[tuple[JobRecord, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.commits = 0

    async def save(self, record: JobRecord) -> None:
        """Queue ``record`` and wait until the commit that includes it is done."""
        future = asyncio.get_running_loop().create_future()
        self._queue.append((record, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        await future

    async def aclose(self) -> None:
        """Wait for the commit under way, if any."""
        if self._flusher is not None:
            await asyncio.shield(self._flusher)

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue, []
            try:
                await anyio.to_thread.run_sync(self._journal.save, [r for r, _ in batch])
            except sqlite3.Error as exc:  # e.g. a full disk: every saver of the batch sees it
                path = str(self._journal.path)
                _settle(batch, JournalError(path, f"cannot be written: {exc}"))
            except Exception as exc:
                _settle(batch, exc)
            else:
                self.commits += 1
                _settle(batch, None)


def _settle(batch: list[tuple[JobRecord, asyncio.Future[None]]], exc: Exception | None) -> None:
    for _, future in batch:
        if not future.done():
            if exc is None:
                future.set_result(None)
            else:
                future.set_exception(exc)

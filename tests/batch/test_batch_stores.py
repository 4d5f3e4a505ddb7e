"""The two stores of job records, the SQLite journal and Redis, behind one JobStore protocol."""

from __future__ import annotations

from pathlib import Path

from test_batch_journal import make_jobs

from argil_async.batch import RedisCoordinator
from argil_async.batch._records import DONE, JobStore
from argil_async.batch._redis._coordinated import ClaimedWriter
from argil_async.batch._sqlite._journal import Journal, JournalWriter


def test_both_writers_are_job_stores(tmp_path: Path):
    """JournalWriter and ClaimedWriter both implement JobStore (save, aclose), so JobDriver
    takes either without a cast (mypy --strict checks the same statically)."""
    with Journal(tmp_path / "j") as journal:
        assert isinstance(JournalWriter(journal), JobStore)
    assert isinstance(ClaimedWriter(RedisCoordinator("redis://127.0.0.1:6379/0")), JobStore)
    assert not isinstance(journal, JobStore)  # the journal itself is saved to through a writer


async def test_records_saved_to_either_store_read_back_the_same(
    tmp_path: Path, redis_url: str, redis_name: str
):
    """A record saved through each store comes back equal from that store's reader."""
    jobs = make_jobs(1)
    with Journal(tmp_path / "j") as journal:
        (record,) = journal.prepare(jobs, "https://api").values()
        done = record.moved(state=DONE, video_id="v1")
        writer: JobStore = JournalWriter(journal)
        await writer.save(done)
        await writer.aclose()
        assert journal.records()[done.key] == done
    async with RedisCoordinator(redis_url, batch=redis_name) as coordinator:
        await coordinator.open(jobs, "https://api")
        claimed, _, _ = await coordinator.claim()
        assert claimed is not None
        done = claimed.moved(state=DONE, video_id="v1")
        writer = ClaimedWriter(coordinator)
        await writer.save(done)
        await writer.aclose()
        assert (await coordinator.records())[done.key] == done

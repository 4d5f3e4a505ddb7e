"""An operator's batch script: what `argil batch` does, from Python, with your own policy.

python examples/batch_operator.py JOBS.jsonl RESULTS.jsonl VIDEO_DIR [MAX_CREDITS]

Checks the run's settings and the job file against the API, refuses a run estimated above
MAX_CREDITS (default 5000), runs the batch (resumable: run it again after a crash), retries
the failed jobs once, lists what still failed, and downloads every finished video.
"""

import asyncio
import sys
from pathlib import Path

from argil_async import AsyncArgil
from argil_async.batch import (
    check_online,
    check_run_options,
    download_results,
    estimate_cost,
    load_jobs,
    read_results,
    read_status,
    remaining_jobs,
    run_batch,
)


async def main(jobs_file: Path, results: Path, videos: Path, max_credits: int) -> int:
    jobs = load_jobs(jobs_file)  # the whole file is validated before anything is sent
    async with AsyncArgil() as client:
        server = check_run_options(client, concurrency=20, progress="log")
        print("renders reported by", "callbacks" if server else "polling")
        checked = await check_online(client, jobs)  # avatars, voices, assets, styles exist
        if not checked.ok:
            print(*checked.problems, sep="\n")
            return 2
        estimate = estimate_cost(remaining_jobs(checked.jobs, results))
        print(f"estimate for what is left: {estimate}")
        if estimate.total > max_credits:
            print(f"above {max_credits} credits: nothing sent")
            return 2
        summary = await run_batch(client, checked.jobs, out=results, concurrency=20)
        print(summary)
        if summary.failed:  # once more, for the failed jobs only
            await run_batch(client, checked.jobs, out=results, retry_failed=True)
        status = read_status(results)
        print(status)
        for row in read_results(results):
            if row.status != "DONE":
                print(f"  line {row.line} {row.key}: {row.cause} {row.error or ''}")
        report = await download_results(client, results, videos)
        print(report)
    return 0 if status.failed == 0 and report.ok else 1


if __name__ == "__main__":
    limit = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    sys.exit(asyncio.run(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), limit)))

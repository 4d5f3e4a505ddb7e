"""500 jobs through run_batch on the simulator: wall time against the ideal, calls per video.

Every render takes a fixed ``--render-time`` (half audio, half video) and every request
``--latency``. One job cannot take less than create + render requests plus the render itself,
and ``--concurrency`` jobs run at once, so the ideal lower bound is::

    ceil(jobs / concurrency) x (render_time + 2 x latency)

The run with render callbacks (the loopback receiver) is the target: within 1.2x of the ideal,
at most 4 API calls per video. ``--poll`` adds the polling run for comparison. The simulator
runs in a thread of this process; the journal and results go to a temporary directory.

    python benchmarks/bench_batch.py [--jobs 500] [--concurrency 50] [--render-time 1.0]
                                     [--latency 0.05] [--poll]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from pathlib import Path

from argil_async import AsyncArgil
from argil_async.batch import BatchOptions, Job, run_batch
from argil_async.testing import ArgilSimulator


def make_jobs(avatar_id: str, count: int) -> list[Job]:
    """``count`` one-moment jobs."""
    return [
        Job.from_dict(
            {
                "key": f"bench-{i:05d}",
                "name": f"Bench {i}",
                "moments": [{"avatarId": avatar_id, "transcript": f"Hello number {i}!"}],
            }
        )
        for i in range(count)
    ]


async def run_once(sim: ArgilSimulator, args: argparse.Namespace, *, callbacks: bool) -> float:
    """One batch run of ``args.jobs`` jobs; return its wall time."""
    avatar = next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")
    jobs = make_jobs(avatar, args.jobs)
    options = BatchOptions(poll_interval=args.poll_interval)
    with tempfile.TemporaryDirectory() as directory:
        async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
            started = time.perf_counter()
            summary = await run_batch(
                client,
                jobs,
                out=Path(directory) / "results.jsonl",
                concurrency=args.concurrency,
                callback="auto" if callbacks else "off",
                progress="off",
                options=options,
            )
            took = time.perf_counter() - started
    assert summary.ok, summary
    return took


def report(label: str, took: float, ideal: float, requests: int, jobs: int) -> None:
    """Print one run's line."""
    print(
        f"  {label:9s} wall {took:6.2f} s   ideal {ideal:6.2f} s   ratio {took / ideal:.3f}x   "
        f"API calls {requests} ({requests / jobs:.2f} per video)"
    )


def measure(args: argparse.Namespace, *, callbacks: bool, ideal: float) -> None:
    """Run once on a fresh simulator and report it."""
    half = args.render_time / 2
    with ArgilSimulator.in_thread(
        render_audio_time=half, render_video_time=half, latency=args.latency
    ) as sim:
        took = asyncio.run(run_once(sim, args, callbacks=callbacks))
        requests = sim.stats.requests
    report("callbacks" if callbacks else "polling", took, ideal, requests, args.jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--render-time", type=float, default=1.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--poll", action="store_true", help="also measure the polling mode")
    parser.add_argument("--poll-interval", type=float, default=0.25)
    args = parser.parse_args()
    per_job = args.render_time + 2 * args.latency
    ideal = math.ceil(args.jobs / args.concurrency) * per_job
    print(
        f"{args.jobs} jobs, concurrency {args.concurrency}, render {args.render_time:g} s, "
        f"latency {args.latency:g} s per request"
    )
    measure(args, callbacks=True, ideal=ideal)
    if args.poll:
        measure(args, callbacks=False, ideal=ideal)


if __name__ == "__main__":
    main()

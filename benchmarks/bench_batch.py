"""A batch at scale: the job file's load time, and a run's wall time against the ideal.

Two measurements, each in a fresh child process (so peak memory is its own):

- *load*: ``load_jobs`` of a ``--load-jobs`` (100,000) job JSONL file, and its peak RSS;
- *run*: ``--jobs`` (10,000) jobs through ``run_batch`` at ``--concurrency`` (500) against the
  simulator running in another process (so its CPU is not the client's), with render
  callbacks. Every render takes ``--render-time`` and every request ``--latency``; a job
  cannot take less than create + render requests plus the render itself, and
  ``--concurrency`` jobs run at once, so the ideal is::

      ceil(jobs / concurrency) x (render_time + 2 x latency)

  Reported: wall time, the ratio to the ideal (target within 1.15x), the client's CPU time
  per job (user + system of the client process) and its peak RSS (target under 300 MB).

    python benchmarks/bench_batch.py [--jobs 10000] [--concurrency 500] [--render-time 5]
                                     [--latency 0.05] [--load-jobs 100000] [--poll]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _simproc import running_simulator

from argil_async import AsyncArgil
from argil_async.batch import BatchOptions, load_jobs, run_batch

AVATAR = "3c90c3cc-0d44-4b50-8888-8dd25736052a"


def write_jobs(path: Path, count: int, avatar: str = AVATAR) -> None:
    """A JSONL job file of ``count`` one-moment jobs."""
    with path.open("w", encoding="utf-8") as stream:
        for i in range(count):
            job = {
                "key": f"bench-{i:06d}",
                "name": f"Bench {i}",
                "moments": [{"avatarId": avatar, "transcript": f"Hello number {i}!"}],
                "extras": {"customer": str(i)},
            }
            stream.write(json.dumps(job) + "\n")


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def cpu_seconds() -> float:
    """User + system CPU time of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def phase_load(args: argparse.Namespace) -> dict[str, float]:
    """Child: time load_jobs of a large file."""
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "jobs.jsonl"
        write_jobs(path, args.load_jobs)
        started = time.perf_counter()
        jobs = load_jobs(path)
        took = time.perf_counter() - started
    assert len(jobs) == args.load_jobs
    return {"load_s": took, "rss_mb": peak_rss_mb()}


async def _run(args: argparse.Namespace, base_url: str, api_key: str) -> dict[str, float]:
    async with AsyncArgil(api_key=api_key, base_url=base_url, max_retries=5) as client:
        avatars = await client.avatars.list()
        avatar = next(a.id for a in avatars if a.status == "IDLE")
        with tempfile.TemporaryDirectory() as directory:
            path = Path(directory) / "jobs.jsonl"
            write_jobs(path, args.jobs, avatar)
            cpu, started = cpu_seconds(), time.perf_counter()
            summary = await run_batch(
                client,
                load_jobs(path),
                out=Path(directory) / "results.jsonl",
                concurrency=args.concurrency,
                callback="off" if args.poll else "auto",
                progress="off",
                options=BatchOptions(poll_interval=args.poll_interval, retry_wait=0.2),
            )
            took, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    assert summary.ok, summary
    return {"wall_s": took, "cpu_ms_per_job": cpu * 1000 / args.jobs, "rss_mb": peak_rss_mb()}


def phase_run(args: argparse.Namespace) -> dict[str, float]:
    """Child: one batch run against a simulator in its own process."""
    half = args.render_time / 2
    timings = {"render_audio_time": half, "render_video_time": half, "latency": args.latency}
    with running_simulator(**timings) as (base_url, api_key):
        return asyncio.run(_run(args, base_url, api_key))


def child(phase: str, argv: list[str]) -> dict[str, float]:
    """Run one phase in a fresh interpreter; return its JSON figures."""
    command = [sys.executable, __file__, "--phase", phase, *argv]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--render-time", type=float, default=5.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--load-jobs", type=int, default=100_000)
    parser.add_argument("--poll", action="store_true", help="poll instead of callbacks")
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--phase", choices=("load", "run"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase is not None:
        figures = phase_load(args) if args.phase == "load" else phase_run(args)
        print(json.dumps(figures))
        return
    argv = sys.argv[1:]
    load = child("load", argv)
    loaded = f"{args.load_jobs} jobs in {load['load_s']:.2f} s"
    print(f"load: {loaded}, peak RSS {load['rss_mb']:.0f} MB")
    run = child("run", argv)
    ideal = math.ceil(args.jobs / args.concurrency) * (args.render_time + 2 * args.latency)
    mode = "polling" if args.poll else "callbacks"
    print(
        f"run: {args.jobs} jobs, concurrency {args.concurrency}, render {args.render_time:g} s, "
        f"latency {args.latency:g} s, {mode}: wall {run['wall_s']:.2f} s, ideal {ideal:.2f} s, "
        f"ratio {run['wall_s'] / ideal:.3f}x; client CPU {run['cpu_ms_per_job']:.2f} ms/job; "
        f"peak RSS {run['rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()

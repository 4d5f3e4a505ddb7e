"""A batch at scale: the job file's load time, and a run's wall time against the ideal.

Two measurements, each in a fresh child process (so peak memory is its own):

- *load*: ``load_jobs`` of a ``--load-jobs`` (100,000) job JSONL file and of the same jobs as
  CSV, with the peak RSS; each in CPU seconds against a baseline measured in the same process
  on the same file (every line through ``msgspec.json.decode``, every row through
  ``csv.DictReader``), since a busy machine moves the seconds far more than the ratio;
- *run*: ``--jobs`` (10,000) jobs through ``run_batch`` at ``--concurrency`` (500) against the
  simulator running in another process (so its CPU is not the client's), with render
  callbacks. Every render takes ``--render-time`` and every request ``--latency``; a job
  cannot take less than create + render requests plus the render itself, and
  ``--concurrency`` jobs run at once, so the ideal is::

      ceil(jobs / concurrency) x (render_time + 2 x latency)

  Reported: wall time, the ratio to the ideal (target within 1.15x), the client's CPU time
  per job (user + system of the client process) and its peak RSS (target under 300 MB),
  with its RSS when a quarter, half and three quarters of the jobs were done (how memory
  grows with the number of jobs).

    python benchmarks/bench_batch.py [--jobs 10000] [--concurrency 500] [--render-time 5]
                                     [--latency 0.05] [--load-jobs 100000] [--poll]
                                     [--phases load,run]

A 100,000-job run's memory: ``--phases run --jobs 100000 --render-time 0.5 --latency 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import json
import math
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
from _simproc import running_simulator

from argil_async import AsyncArgil
from argil_async.batch import BatchOptions, journal_path, load_jobs, run_batch

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


def write_csv(path: Path, count: int, avatar: str = AVATAR) -> None:
    """The same jobs as a CSV file."""
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["key", "name", "avatarId", "transcript", "extras.customer"])
        for i in range(count):
            writer.writerow([f"bench-{i:06d}", f"Bench {i}", avatar, f"Hello number {i}!", i])


def peak_rss_mb() -> float:
    """This process's peak resident memory (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak so far."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except OSError:
        return peak_rss_mb()
    return pages * resource.getpagesize() / (1024 * 1024)


def cpu_seconds() -> float:
    """User + system CPU time of this process."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _decode_lines(path: Path) -> None:
    with path.open("rb") as stream:
        for line in stream:
            msgspec.json.decode(line)


def _read_rows(path: Path) -> None:
    with path.open(encoding="utf-8", newline="") as stream:
        for _ in csv.DictReader(stream):
            pass


def _timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``work()``."""
    started, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - started, time.process_time() - cpu


_KINDS = {"jsonl": (write_jobs, _decode_lines), "csv": (write_csv, _read_rows)}


def phase_load(args: argparse.Namespace, kind: str) -> dict[str, float]:
    """Child: time load_jobs of a large JSONL or CSV file, and a plain read of it."""
    write, baseline = _KINDS[kind]
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"jobs.{kind}"
        write(path, args.load_jobs)
        _, base = _timed(lambda: baseline(path))
        jobs: list[object] = []
        took, cpu = _timed(lambda: jobs.extend(load_jobs(path)))
    assert len(jobs) == args.load_jobs
    return {"load_s": took, "load_cpu_s": cpu, "base_cpu_s": base, "rss_mb": peak_rss_mb()}


def _done_count(journal: Path) -> int:
    """DONE jobs, counted by SQLite itself (reading every record would cost the client's
    memory what is being measured)."""
    with contextlib.closing(sqlite3.connect(f"{journal.as_uri()}?mode=ro", uri=True)) as db:
        return int(db.execute("SELECT COUNT(*) FROM jobs WHERE state = 'DONE'").fetchone()[0])


async def _sample_rss(results: Path, jobs: int, found: list[float]) -> None:
    """Append the RSS when a quarter, half, three quarters of the jobs are done (and say it
    on stderr at once, so that a long run's figures are seen as they come)."""
    marks = [jobs * n // 4 for n in (1, 2, 3)]
    while marks:
        await asyncio.sleep(1.0)
        try:
            done = await asyncio.to_thread(_done_count, journal_path(results))
        except sqlite3.Error:  # the journal's first commit under way
            continue
        while marks and done >= marks[0]:
            found.append(rss_mb())
            print(f"{marks.pop(0)} jobs done: RSS {found[-1]:.0f} MB", file=sys.stderr)


async def _run(args: argparse.Namespace, base_url: str, api_key: str) -> dict[str, Any]:
    async with AsyncArgil(api_key=api_key, base_url=base_url, max_retries=5) as client:
        avatars = await client.avatars.list()
        avatar = next(a.id for a in avatars if a.status == "IDLE")
        with tempfile.TemporaryDirectory() as directory:
            path, out = Path(directory) / "jobs.jsonl", Path(directory) / "results.jsonl"
            write_jobs(path, args.jobs, avatar)
            quarters: list[float] = []
            sampler = asyncio.ensure_future(_sample_rss(out, args.jobs, quarters))
            cpu, started = cpu_seconds(), time.perf_counter()
            summary = await run_batch(
                client,
                load_jobs(path),
                out=out,
                concurrency=args.concurrency,
                callback="off" if args.poll else "auto",
                progress="off",
                options=BatchOptions(poll_interval=args.poll_interval, retry_wait=0.2),
            )
            took, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
    assert summary.ok, summary
    return {
        "wall_s": took,
        "cpu_ms_per_job": cpu * 1000 / args.jobs,
        "rss_mb": peak_rss_mb(),
        "rss_quarters": quarters,
    }


def phase_run(args: argparse.Namespace) -> dict[str, Any]:
    """Child: one batch run against a simulator in its own process."""
    half = args.render_time / 2
    timings = {"render_audio_time": half, "render_video_time": half, "latency": args.latency}
    with running_simulator(**timings) as (base_url, api_key):
        return asyncio.run(_run(args, base_url, api_key))


def child(phase: str, argv: list[str]) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; return its JSON figures."""
    command = [sys.executable, __file__, "--phase", phase, *argv]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    figures: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return figures


def report_load(args: argparse.Namespace, kind: str, load: dict[str, Any]) -> None:
    """Print one load phase's figures."""
    base = {"jsonl": "msgspec.json.decode", "csv": "csv.DictReader"}[kind]
    cpu, plain = load["load_cpu_s"], load["base_cpu_s"]
    print(
        f"load {kind}: {args.load_jobs} jobs in {load['load_s']:.2f} s, CPU {cpu:.2f} s "
        f"({cpu / plain:.1f}x {base} alone: {plain:.2f} s); peak RSS {load['rss_mb']:.0f} MB"
    )


def report_run(args: argparse.Namespace, run: dict[str, Any]) -> None:
    """Print the run phase's figures."""
    ideal = math.ceil(args.jobs / args.concurrency) * (args.render_time + 2 * args.latency)
    mode = "polling" if args.poll else "callbacks"
    quarters = ", ".join(f"{mb:.0f}" for mb in run["rss_quarters"]) or "not sampled"
    print(
        f"run: {args.jobs} jobs, concurrency {args.concurrency}, render {args.render_time:g} s, "
        f"latency {args.latency:g} s, {mode}: wall {run['wall_s']:.2f} s, ideal {ideal:.2f} s, "
        f"ratio {run['wall_s'] / ideal:.3f}x; client CPU {run['cpu_ms_per_job']:.2f} ms/job; "
        f"peak RSS {run['rss_mb']:.0f} MB (at 1/4, 1/2, 3/4 done: {quarters} MB)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=500)
    parser.add_argument("--render-time", type=float, default=5.0)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--load-jobs", type=int, default=100_000)
    parser.add_argument("--poll", action="store_true", help="poll instead of callbacks")
    parser.add_argument("--poll-interval", type=float, default=0.5)
    parser.add_argument("--phases", default="load,run", help="load, run or load,run (default)")
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase is not None:
        kind = args.phase.removeprefix("load-")
        figures = phase_run(args) if args.phase == "run" else phase_load(args, kind)
        print(json.dumps(figures))
        return
    argv = sys.argv[1:]
    load_average = " ".join(f"{n:.1f}" for n in os.getloadavg())
    print(f"load average {load_average} on {os.cpu_count()} CPUs")
    phases = args.phases.split(",")
    if "load" in phases:
        for kind in _KINDS:
            report_load(args, kind, child(f"load-{kind}", argv))
    if "run" in phases:
        report_run(args, child("run", argv))


if __name__ == "__main__":
    main()

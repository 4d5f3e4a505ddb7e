"""N processes x M uploads sharing the 5-processing limit through Redis: wall time vs ideal.

The ideal is ceil(N x M / 5) x processing time: the limit's full throughput. The baseline,
measured in the same run, is one process making all N x M uploads with the default
in-process limiter: what this machine achieves without Redis or a fleet. Each worker is this
script in its own process with its own ``RedisAssetLimiter`` (same name); they start
together once all are loaded. The simulator
runs in a thread of this process and counts the 429s it answered and the most assets it saw
processing at once. Redis: ``--redis-url``, else a ``redis-server`` started here.

    python benchmarks/bench_fleet.py [--processes 4] [--uploads 25] [--processing-time 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

from argil_async import AsyncArgil
from argil_async.limits import RedisAssetLimiter
from argil_async.testing import ArgilSimulator


async def worker(base_url: str, key: str, redis_url: str, name: str, uploads: int) -> None:
    """Upload ``uploads`` images at once through the shared limiter (or, with the name
    "local", the in-process one); print how many are READY."""
    limiter = None if name == "local" else RedisAssetLimiter(redis_url, name=name)
    async with AsyncArgil(api_key=key, base_url=base_url, asset_limiter=limiter) as client:
        tag = uuid.uuid4().hex[:8]
        assets = await asyncio.gather(
            *(
                client.assets.upload(
                    name=f"{tag}-{i}", type="IMAGE", url=f"https://b.test/{tag}/{i}.png"
                )
                for i in range(uploads)
            )
        )
    print(sum(asset.status == "READY" for asset in assets), flush=True)


@contextlib.contextmanager
def redis_server(url: str | None) -> Iterator[str]:
    """The given Redis URL, or a throwaway redis-server on a free loopback port."""
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("no --redis-url and no redis-server on PATH")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    argv = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    try:
        for _ in range(100):  # until it answers PING
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def run_fleet(
    processing_time: float, shape: list[int], redis_url: str, name: str
) -> tuple[float, int, int, int]:
    """One worker per entry of ``shape`` (its uploads), released together;
    (wall time, READY, 429s, peak processing)."""
    with ArgilSimulator.in_thread(asset_processing_time=processing_time) as sim:
        argv = [sys.executable, __file__, "--worker", sim.base_url, sim.api_key, redis_url, name]
        workers = [
            subprocess.Popen(
                [*argv, str(uploads)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
            )
            for uploads in shape
        ]
        for process in workers:  # each prints "go?" once imported and ready
            assert process.stdout is not None
            process.stdout.readline()
        started = time.perf_counter()
        for process in workers:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.close()
        ready = 0
        for process in workers:
            assert process.stdout is not None
            ready += int(process.stdout.read().split()[-1])
            process.stdout.close()
            process.wait()
        took = time.perf_counter() - started
        return took, ready, sim.stats.asset_rate_limited, sim.stats.max_processing_assets


def main() -> None:
    if sys.argv[1:2] == ["--worker"]:
        base_url, key, redis_url, name, uploads = sys.argv[2:7]
        print("go?", flush=True)
        sys.stdin.readline()
        asyncio.run(worker(base_url, key, redis_url, name, int(uploads)))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--uploads", type=int, default=25, help="per process")
    parser.add_argument("--processing-time", type=float, default=1.0)
    parser.add_argument("--redis-url")
    args = parser.parse_args()
    name = f"bench-{uuid.uuid4().hex[:8]}"
    total = args.processes * args.uploads
    with redis_server(args.redis_url) as redis_url:
        fleet = run_fleet(args.processing_time, [args.uploads] * args.processes, redis_url, name)
        alone = run_fleet(args.processing_time, [total], redis_url, "local")
    ideal = math.ceil(total / 5) * args.processing_time
    shape = f"{args.processes} processes x {args.uploads} uploads"
    print(f"{shape}, processing {args.processing_time:g} s each, limit 5; ideal {ideal:.2f} s")
    for label, (took, ready, limited, peak) in (
        ("fleet, Redis limiter", fleet),
        ("baseline: 1 process, in-process limiter", alone),
    ):
        print(f"  {label}")
        print(f"    wall time   {took:6.2f} s   ratio {took / ideal:.3f}x of the ideal")
        print(f"    READY {ready} of {total}, 429s {limited}, peak {peak} processing at once")
    print(f"  fleet / baseline: {fleet[0] / alone[0]:.3f}x")


if __name__ == "__main__":
    main()

"""Real processes sharing one RedisAssetLimiter against one simulator (in a thread here).

Each worker is ``tests/limits/fleet_worker.py`` in its own Python process; the simulator's counters
say how many assets were ever processing at once and how many uploads it refused with 429.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis

from argil_async.testing import ArgilSimulator

pytestmark = pytest.mark.slow

WORKER = str(Path(__file__).with_name("fleet_worker.py"))


class Worker:
    """A fleet_worker process whose ``posted`` lines are counted as they come."""

    def __init__(self, sim: ArgilSimulator, redis_url: str, name: str, *flags: str) -> None:
        argv = [sys.executable, WORKER, sim.base_url, sim.api_key, redis_url, name, *flags]
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env)
        self.posted = 0
        self.result: dict[str, object] | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.process.stdout as lines:
            for line in lines:
                if line.startswith("posted "):
                    self.posted += 1
                elif line.startswith("{"):
                    self.result = json.loads(line)

    def finish(self, timeout: float = 120) -> dict[str, object]:
        """Wait for the process to end; its JSON summary."""
        self.process.wait(timeout=timeout)
        self._reader.join(timeout=5)
        assert self.result is not None, f"worker exited {self.process.returncode} with no summary"
        return self.result


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def _posts_while_paused(sim: ArgilSimulator, cooldown: redis.Redis, key: str) -> int:
    """The POST count last read while the pause still held (read first, then the pause checked)."""
    last = sim.stats.by_route["POST /assets"]
    while True:
        count = sim.stats.by_route["POST /assets"]
        if cooldown.pttl(key) <= 0:  # the pause is over: `count` may include resumed uploads
            return last
        last = count
        time.sleep(0.01)


def test_four_processes_share_the_five_slots(redis_url: str, redis_name: str):
    """4 processes x 25 uploads (1 s processing): never more than 5 processing, no 429."""
    with ArgilSimulator.in_thread(asset_processing_time=1.0) as sim:
        workers = [
            Worker(sim, redis_url, redis_name, "--uploads", "25", "--prefix", f"p{i}")
            for i in range(4)
        ]
        results = [worker.finish() for worker in workers]
        peak, refused = sim.stats.max_processing_assets, sim.stats.asset_rate_limited
        posts = sim.stats.by_route["POST /assets"]
    assert [r["ready"] for r in results] == [25] * 4
    assert peak == 5  # the whole limit was used, and never exceeded
    assert refused == 0
    assert posts == 100


def test_a_killed_holder_frees_its_slots_after_the_ttl(redis_url: str, redis_name: str):
    """SIGKILL a process holding slots: its leases end by the TTL and the others finish."""
    ttl = "3"
    with ArgilSimulator.in_thread(asset_processing_time=0.5) as sim:
        victim = Worker(sim, redis_url, redis_name, "--prefix", "victim", "--lease-ttl", ttl)
        _wait_for(lambda: victim.posted >= 3)
        others = [
            Worker(sim, redis_url, redis_name, "--prefix", f"o{i}", "--lease-ttl", ttl)
            for i in range(3)
        ]
        victim.process.send_signal(signal.SIGKILL)
        victim.process.wait(timeout=10)
        expiries = _lease_expiries(redis_url, redis_name)  # read before "now": no race
        killed_at = _redis_now_ms(redis_url)
        results = [worker.finish() for worker in others]
        peak, refused = sim.stats.max_processing_assets, sim.stats.asset_rate_limited
    assert victim.result is None  # it died mid-run
    assert [r["ready"] for r in results] == [25] * 3
    assert expiries
    assert max(expiries) <= killed_at + 3000  # every lease, the dead one's too, ends by the TTL
    assert peak <= 5
    assert refused == 0
    assert _live_leases(redis_url, redis_name) == 0


def test_a_429_storm_in_one_process_pauses_the_others(redis_url: str, redis_name: str):
    """One process's 429 (Retry-After 3 s) stops the other processes' POSTs until then."""
    with (
        ArgilSimulator.in_thread(asset_processing_time=0.2) as calm,
        ArgilSimulator.in_thread(
            rate_limit_every=1,
            retry_after=3,
            fault_methods=frozenset({"POST"}),
            fault_path_prefix="/assets",
        ) as stormy,
    ):
        others = [
            Worker(calm, redis_url, redis_name, "--uploads", "30", "--prefix", f"c{i}")
            for i in range(2)
        ]
        _wait_for(lambda: calm.stats.by_route["POST /assets"] >= 5)
        storm = Worker(stormy, redis_url, redis_name, "--uploads", "1", "--max-retries", "0",
                       "--timeout", "5", "--prefix", "storm")  # fmt: skip
        cooldown = redis.Redis.from_url(redis_url)
        key = f"argil:{{{redis_name}}}:cooldown"  # the limiter's pause, set by the storm's 429
        _wait_for(lambda: cooldown.pttl(key) > 0)
        before = calm.stats.by_route["POST /assets"]
        during = _posts_while_paused(calm, cooldown, key) - before
        storm_result = storm.finish()
        results = [worker.finish() for worker in others]
        refused = calm.stats.asset_rate_limited
        cooldown.close()
    assert storm_result["errors"] == ["RateLimitError"]
    # 3 s at 5 uploads per 0.2 s would be ~75 POSTs; at most the 5 slot holders already on
    # their way when the pause began may still arrive.
    assert during <= 5
    assert [r["ready"] for r in results] == [30, 30]
    assert refused == 0


def _client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def _redis_now_ms(redis_url: str) -> int:
    with _client(redis_url) as client:
        seconds, micros = client.time()
    return int(seconds) * 1000 + int(micros) // 1000


def _lease_expiries(redis_url: str, name: str) -> list[float]:
    with _client(redis_url) as client:
        return [
            score for _, score in client.zrange(f"argil:{{{name}}}:leases", 0, -1, withscores=True)
        ]


def _live_leases(redis_url: str, name: str) -> int:
    now = _redis_now_ms(redis_url)
    with _client(redis_url) as client:
        return int(client.zcount(f"argil:{{{name}}}:leases", f"({now}", "+inf"))

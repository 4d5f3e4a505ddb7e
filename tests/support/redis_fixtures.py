"""A real Redis for the tests: ``ARGIL_TEST_REDIS_URL`` (``.ci/run`` starts one), or a
``redis-server`` started here on a free loopback port. With neither, the tests that need it
skip with the reason, except in CI (``CI=true``), where they fail: CI must not skip them.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

__all__ = ["redis_name", "redis_url", "running_redis_server"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    return False


@contextlib.contextmanager
def running_redis_server(binary: str = "redis-server") -> Iterator[str]:
    """A throwaway redis-server (no persistence) on a free loopback port; yields its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            if _answers(port) or process.poll() is not None:
                break
            time.sleep(0.05)
        if not _answers(port):
            raise RuntimeError(f"redis-server did not start on port {port}")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _no_redis(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the Redis tests, but {reason}")
    pytest.skip(f"needs Redis: {reason} (set ARGIL_TEST_REDIS_URL or install redis-server)")


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a live Redis server for the whole session."""
    url = os.environ.get("ARGIL_TEST_REDIS_URL")
    if url:
        yield url
        return
    binary = shutil.which("redis-server")
    if binary is None:
        _no_redis("no ARGIL_TEST_REDIS_URL and no redis-server binary")
    assert binary is not None
    with running_redis_server(binary) as started:
        yield started


@pytest.fixture
def redis_name() -> str:
    """A limiter/coordinator name of its own for each test, so tests share nothing."""
    return f"test-{uuid.uuid4().hex[:12]}"

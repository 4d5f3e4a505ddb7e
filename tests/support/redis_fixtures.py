"""A real Redis for the tests: ``ARGIL_TEST_REDIS_URL`` (``.ci/run`` starts one), or a
``redis-server`` started here on a free loopback port. With neither, the tests that need it
skip with the reason, except in CI (``CI=true``), where they fail: CI must not skip them.

``redis_process`` is a redis-server of the test's own (always started here, never the shared
one) that the test may stop, pause and start again on the same port: Redis outages.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisProcess", "redis_name", "redis_process", "redis_url", "running_redis_server"]


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


class RedisProcess:
    """A redis-server on a fixed loopback port that a test stops and starts again there.

    With ``persist`` (the default) it writes an append-only file synced on every write into
    ``folder``, so a restart (even after SIGKILL) keeps every key: an outage, not a data loss.
    """

    def __init__(self, folder: Path, binary: str, *, persist: bool = True) -> None:
        self.folder = folder
        self.binary = binary
        self.persist = persist
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server on its port and wait until it answers PING."""
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.persist else []
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--dir", str(self.folder), *(persistence or ["--appendonly", "no"])],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(200):
            if _answers(self.port) or self.process.poll() is not None:
                break
            time.sleep(0.05)
        if not _answers(self.port):
            raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Kill the server (SIGKILL: connections drop, new ones are refused)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def pause(self) -> None:
        """SIGSTOP: connections stay open but nothing is answered until :meth:`resume`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """SIGCONT after :meth:`pause`."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)


@pytest.fixture
def redis_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """A started redis-server of this test's own, persisting to disk (see RedisProcess)."""
    binary = shutil.which("redis-server")
    if binary is None:
        _no_redis("no redis-server binary to start, stop and restart")
    assert binary is not None
    server = RedisProcess(tmp_path_factory.mktemp("redis"), binary)
    server.start()
    try:
        yield server
    finally:
        if server.process is not None:
            server.resume()
        server.stop()

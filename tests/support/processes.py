"""Servers in other processes for the job-queue and MCP tests: the simulator as users run it
(``python -m argil_async.testing``) and optional packages that CI must not skip.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

__all__ = ["REPO", "SimulatorProcess", "require", "simulator_process", "stop"]

REPO = Path(__file__).resolve().parents[2]


def require(module: str) -> ModuleType:
    """Import an optional test dependency (celery, saq, mcp); skip the test without it.

    Where ``ARGIL_TEST_REQUIRE_OPTIONAL=1`` (``.ci/run``'s main leg, which installs them)
    a missing one fails the test instead of skipping it.
    """
    if os.environ.get("ARGIL_TEST_REQUIRE_OPTIONAL") == "1":
        return importlib.import_module(module)
    found = pytest.importorskip(module)
    if getattr(found, "__file__", None) is None:  # a folder of that name, not the package
        pytest.skip(f"{module} is not installed (found only a namespace: {found.__path__})")
    return found


@dataclass
class SimulatorProcess:
    """A simulator served by ``python -m argil_async.testing`` in a child process."""

    base_url: str
    api_key: str
    process: subprocess.Popen[str]

    def env(self) -> dict[str, str]:
        """The environment that points a client (or a worker) at this simulator."""
        return {**os.environ, "ARGIL_BASE_URL": self.base_url, "ARGIL_API_KEY": self.api_key}


@contextlib.contextmanager
def simulator_process(*flags: str) -> Iterator[SimulatorProcess]:
    """Serve the simulator in another process (``flags`` as on its command line)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "argil_async.testing", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().split()
        values = dict(part.split("=", 1) for part in first)
        yield SimulatorProcess(values["ARGIL_BASE_URL"], values["ARGIL_API_KEY"], process)
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()


def stop(process: subprocess.Popen[str], sig: int = signal.SIGTERM, *, group: bool = False) -> None:
    """Stop a child (its whole process group with ``group``), SIGKILL after 15 s; reap it."""

    def send(signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, signum)
            else:
                process.send_signal(signum)

    if group or process.poll() is None:
        send(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        process.wait(timeout=15)

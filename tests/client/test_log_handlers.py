"""A library's logging: a NullHandler, no last-resort output, and never a line printed twice."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "batch_jobs.jsonl"

# Three GET /avatars; every second request is answered 5xx, so some are retried.
CALLS = """
from argil_async import Argil
from argil_async.testing import ArgilSimulator, SimulatorConfig
with ArgilSimulator.in_thread(SimulatorConfig(server_error_every=2)) as sim:
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        for _ in range(3):
            client.avatars.list()
"""


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "ARGIL_LOG"}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**environ, **env},
        check=False,
    )


def _request_lines(stderr: str) -> list[str]:
    """One line per attempt (each with its own request id); asserts none is printed twice."""
    lines = [line for line in stderr.splitlines() if "GET /avatars " in line and "attempt=" in line]
    ids = [line.split("request_id=", 1)[1] for line in lines]
    assert len(ids) == len(set(ids)), stderr
    retries = [line for line in stderr.splitlines() if "retrying GET /avatars" in line]
    assert len(retries) == sum(" 200 " not in line for line in lines), stderr
    return lines


def test_unconfigured_logging_prints_nothing():
    """No logging set up: a retry's warning does not reach stderr through the last resort."""
    result = _run(CALLS)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


def test_argil_log_alone_prints_each_line_once():
    """ARGIL_LOG=info with no logging configured: one line per attempt, the retry included."""
    result = _run(CALLS, ARGIL_LOG="info")
    assert result.returncode == 0, result.stderr
    lines = _request_lines(result.stderr)
    assert len([line for line in lines if " 200 " in line]) == 3
    assert len(lines) > 3  # some were retried


def test_argil_log_with_basic_config_before_prints_each_line_once():
    """The application configured logging first: its handler prints, ARGIL_LOG's does not."""
    result = _run("import logging; logging.basicConfig(format='APP %(message)s')" + CALLS,
                  ARGIL_LOG="info")  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = _request_lines(result.stderr)
    assert len([line for line in lines if " 200 " in line]) == 3
    assert all(line.startswith("APP ") for line in lines)


def test_argil_log_with_basic_config_after_prints_each_line_once():
    """logging.basicConfig after the first client: still one line per attempt."""
    code = CALLS.replace(
        "        for _ in range(3):",
        "        client.avatars.list()\n"
        "        import logging; logging.basicConfig(format='APP %(message)s')\n"
        "        for _ in range(2):",
    )
    result = _run(code, ARGIL_LOG="info")
    assert result.returncode == 0, result.stderr
    lines = _request_lines(result.stderr)
    assert len([line for line in lines if " 200 " in line]) == 3
    assert lines[-1].startswith("APP ")  # after basicConfig, through the application's handler


def test_cli_with_argil_log_prints_each_line_once(tmp_path: Path):
    """`argil batch run` (which configures logging) with ARGIL_LOG=info: no doubled line."""
    environ = {k: v for k, v in os.environ.items() if k != "ARGIL_API_KEY"}
    result = subprocess.run(
        [sys.executable, "-m", "argil_async", "batch", "run", str(SAMPLE), "--out",
         str(tmp_path / "r.jsonl"), "--simulate", "--progress", "off"],
        capture_output=True, text=True, timeout=120, check=False,
        env={**environ, "ARGIL_LOG": "info"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if "POST /videos " in line]
    assert lines, result.stderr
    messages = [line.split(" POST /videos ", 1)[1] for line in lines]
    assert len(messages) == len(set(messages))  # each request's line (its request id) once

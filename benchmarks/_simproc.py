"""Run the simulator in a separate process for benchmarks, so its CPU is not counted."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def running_simulator(**config: object) -> Iterator[tuple[str, str]]:
    """Start ``python -m argil_async.testing`` on a free port; yield (base_url, api_key)."""
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in config.items()]
    process = subprocess.Popen(
        [sys.executable, "-m", "argil_async.testing", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline().split()
        settings = dict(part.split("=", 1) for part in first)
        yield settings["ARGIL_BASE_URL"], settings["ARGIL_API_KEY"]
    finally:
        process.terminate()
        process.wait(timeout=10)

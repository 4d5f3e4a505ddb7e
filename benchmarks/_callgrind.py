"""Counting instructions with valgrind's callgrind, shared by the ``bench_*instructions``
scripts and ``bench_openai.py --instructions``.

A script re-runs itself as a worker under ``valgrind --tool=callgrind --instr-atstart=no``;
the worker warms up, switches instrumentation on (`callgrind`) for the measured requests and
off again; `instructions_per_request` reads callgrind's summary and divides by the requests.
Counted instructions do not depend on the machine's load, unlike CPU time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys


def callgrind(on: bool) -> None:
    """Switch this process's instrumentation on or off (it runs under callgrind)."""
    flag = "on" if on else "off"
    subprocess.run(
        ["callgrind_control", "-i", flag, str(os.getpid())], check=True, capture_output=True
    )


def instructions_per_request(script: str, worker_args: list[str], requests: int) -> float:
    """Run ``script`` with ``worker_args`` under callgrind; its instructions per request."""
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            script,
            *worker_args,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    collected = re.search(r"Collected : (\d+)", done.stderr)
    assert collected, done.stderr[-2000:]
    return int(collected.group(1)) / requests

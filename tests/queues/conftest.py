"""The job-queue tests' simulator: another process, as users run it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.processes import SimulatorProcess, simulator_process


@pytest.fixture
def sim_process() -> Iterator[SimulatorProcess]:
    """The simulator in another process, renders slow enough for a kill to land mid-task."""
    with simulator_process("--render-video-time", "1.5", "--render-audio-time", "0.3") as sim:
        yield sim

"""Running the `argil` CLI in tests: point it at a simulator, run it, write job files."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from argil_async._cli import main
from argil_async.testing import ArgilSimulator


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """The CLI sets logger levels for its own output; put them back after each test."""
    names = ["aiohttp.access", "argil_async", "argil_async.batch"]
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def use_sim(monkeypatch: pytest.MonkeyPatch) -> Callable[[ArgilSimulator], None]:
    """Point the CLI at a simulator through the environment."""

    def point(sim: ArgilSimulator) -> None:
        monkeypatch.setenv("ARGIL_API_KEY", sim.api_key)
        monkeypatch.setenv("ARGIL_BASE_URL", sim.base_url)

    return point


async def cli(*argv: str) -> int:
    """Run `argil ARGV` in a worker thread (it runs its own event loop)."""
    return await asyncio.to_thread(main, list(argv))


def write_jobs(
    sim: ArgilSimulator, path: Path, count: int, failing: frozenset[int] = frozenset()
) -> Path:
    """A JSONL job file; jobs in ``failing`` are failed by the simulator."""
    avatar = next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")
    rows = [
        {
            "key": f"k{i}",
            "name": f"v{i}",
            "moments": [{"avatarId": avatar, "transcript": "Hi"}],
            "extras": {"simOutcome": "FAILED"} if i in failing else {},
        }
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path

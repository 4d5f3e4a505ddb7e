"""mypy catches the mistakes users make: each line of TYPOS must be reported, by line."""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

# Each line is one mistake; mypy must report an error on every one of them.
TYPOS = """\
from argil_async import Argil, AsyncArgil, Timeout, with_raw_response


async def mistakes(client: AsyncArgil, sync: Argil) -> None:
    client.with_options(max_retries="3")
    client.with_options(timeout="5")
    client.with_options(retries=3)
    client.with_options(extra_headers={"X": 1})
    await with_raw_response(client.videos.get, 42)
    await with_raw_response(client.videos.get, "id", extra=1)
    with_raw_response(sync.videos.get, "id").parse().no_such_field
    Timeout(total="30")
"""
FIRST_MISTAKE = 5


def test_usage_file_is_clean():
    """tests/typing/usage.py type-checks under --strict (what users' code sees)."""
    usage = Path(__file__).with_name("usage.py")
    stdout, stderr, status = mypy_api.run(["--strict", "--no-error-summary", str(usage)])
    assert status == 0, stdout + stderr


def test_every_typo_is_reported(tmp_path: Path):
    """Each mistake in TYPOS gets a mypy error on its own line."""
    path = tmp_path / "typos.py"
    path.write_text(TYPOS)
    stdout, _, status = mypy_api.run(["--strict", "--no-error-summary", str(path)])
    assert status == 1
    reported = {int(line.split(":")[1]) for line in stdout.splitlines() if ": error:" in line}
    expected = set(range(FIRST_MISTAKE, len(TYPOS.splitlines()) + 1))
    assert expected <= reported, stdout

"""mypy catches the mistakes users make: each line of TYPOS must be reported, by line."""

from __future__ import annotations

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api")

# Each line is one mistake; mypy must report an error on every one of them.
TYPOS = """\
from argil_async import Argil, AsyncArgil, Subtitles, Timeout, with_raw_response


async def mistakes(client: AsyncArgil, sync: Argil) -> None:
    client.with_options(max_retries="3")
    client.with_options(timeout="5")
    client.with_options(retries=3)
    client.with_options(extra_headers={"X": 1})
    await with_raw_response(client.videos.get, 42)
    await with_raw_response(client.videos.get, "id", extra=1)
    with_raw_response(sync.videos.get, "id").parse().no_such_field
    Timeout(total="30")
    await client.avatars.list(visibility="publik")
    await client.avatars.list(orientation="ASPECT_RATIO_4_3")
    await client.voices.list(language="KLINGON")
    await client.assets.upload(name="a", type="AUDIO", url="https://x")
    client.assets.list(type=["PICTURE"])
    await client.videos.create(name="v", moments=[], aspect_ratio="4:3")
    await client.subtitles.export("id", format="srt")
    await client.webhooks.create(callback_url="https://x", events=["VIDEO_DONE"])
    await client.videos.get("id", timeout="5")
    await client.videos.get("id", retries=2)
    await client.videos.wait_until_done("id", extra_headers={"X": 1})
    sync.videos.get("id", max_retries="2")
    Subtitles(position="Center")
    await client.voices.create(name="v", audio_url="https://x", remove_backgroud_noise=True)
    sync.voices.create(name="v", audio_url="https://x", voice_speed="fast")
    (await client.videos.get("id")).status == "FINISHED"
    sync.avatars.get("id").status == "READY"
    sync.assets.get("id").status == "DONE"
    await client.videos.with_raw_response.get(42)
    await client.videos.with_raw_response.get("id", timeout="5")
    client.videos.with_raw_response.no_such_method
    sync.videos.with_raw_response.get("id").parse().no_such_field
    await client.videos.with_raw_response.render("id", callback="https://x")
"""
FIRST_MISTAKE = 5


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A mypy cache of this run's own: the repository's ``.mypy_cache`` is shared by the CI legs,
    each with its own versions of the same packages, and mypy can trip over another
    environment's entries (it raised an internal AssertionError on a stale pydantic entry)."""
    return str(tmp_path_factory.mktemp("mypy_cache"))


def mypy_strict(path: Path, cache_dir: str) -> tuple[str, str, int]:
    """Run ``mypy --strict`` on one file in this process, with its own cache."""
    return mypy_api.run(["--strict", "--no-error-summary", "--cache-dir", cache_dir, str(path)])


def test_usage_file_is_clean(mypy_cache: str):
    """tests/typing/usage.py type-checks under --strict (what users' code sees)."""
    usage = Path(__file__).with_name("usage.py")
    stdout, stderr, status = mypy_strict(usage, mypy_cache)
    assert status == 0, stdout + stderr


def test_every_typo_is_reported(tmp_path: Path, mypy_cache: str):
    """Each mistake in TYPOS gets a mypy error on its own line."""
    path = tmp_path / "typos.py"
    path.write_text(TYPOS)
    stdout, _, status = mypy_strict(path, mypy_cache)
    assert status == 1
    reported = {int(line.split(":")[1]) for line in stdout.splitlines() if ": error:" in line}
    expected = set(range(FIRST_MISTAKE, len(TYPOS.splitlines()) + 1))
    assert expected <= reported, stdout

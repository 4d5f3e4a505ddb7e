"""Users can mock this SDK with aioresponses (where aioresponses supports the installed aiohttp)."""

from __future__ import annotations

import re

import aiohttp
import pytest

from argil_async import Argil, AsyncArgil, AuthenticationError, RetryPolicy

aioresponses = pytest.importorskip(
    "aioresponses", reason="aioresponses is not installed (the dependency-floors CI leg has it)"
).aioresponses
if tuple(int(part) for part in aiohttp.__version__.split(".")[:2]) >= (3, 14):
    pytest.skip(
        "aioresponses 0.7.9 cannot mock aiohttp 3.14+ (the floors CI leg runs this on 3.10.11)",
        allow_module_level=True,
    )

VOICES = re.compile(r"^https://api\.argil\.ai/v1/voices")
KEY = "aioresponses-test-key"


async def test_listing_is_answered_by_aioresponses():
    """A mocked GET /voices is decoded into Voice models."""
    with aioresponses() as mocked:
        mocked.get(VOICES, payload=[{"id": "v1", "name": "Anna"}])
        async with AsyncArgil(api_key=KEY) as client:
            voices = await client.voices.list()
    assert [(voice.id, voice.name) for voice in voices] == [("v1", "Anna")]


async def test_mocked_error_and_retries_behave_as_on_the_wire():
    """A mocked 500 is retried within max_retries; a mocked 401 raises AuthenticationError."""
    policy = RetryPolicy(max_retries=1, wait_scale=0)
    with aioresponses() as mocked:
        mocked.get(VOICES, status=500, payload={"message": "down"})
        mocked.get(VOICES, payload=[])
        mocked.get(VOICES, status=401, payload={"message": f"invalid api key {KEY}"})
        async with AsyncArgil(api_key=KEY, retry_policy=policy) as client:
            assert await client.voices.list() == []
            with pytest.raises(AuthenticationError) as caught:
                await client.voices.list()
    assert KEY not in str(caught.value)


def test_sync_client_is_mocked_too():
    """aioresponses patches the session the sync client's loop thread uses as well."""
    with aioresponses() as mocked:
        mocked.get(VOICES, payload=[{"id": "v2", "name": "Ben"}])
        with Argil(api_key=KEY) as client:
            assert [voice.id for voice in client.voices.list()] == ["v2"]

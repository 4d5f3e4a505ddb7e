"""Redis URLs are checked when the limiter or coordinator is built, not at first use."""

from __future__ import annotations

import subprocess
import sys

import pytest

from argil_async.batch import RedisCoordinator
from argil_async.errors import InvalidRequestError
from argil_async.limits import RedisAssetLimiter

BAD_URLS = [
    "http://127.0.0.1:6379/0",  # not Redis
    "redis://h:notaport/0",  # a port that is no number
    "redis://h:99999/0",  # a port out of range
    "redis://h:0/0",  # port 0
    "redis://h:6379/zero",  # a database that is no number
    "unix://",  # no socket path
    "",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_bad_url_is_refused_by_the_limiter_and_the_coordinator(url: str):
    """Each bad URL is an InvalidRequestError naming the argument, at construction."""
    with pytest.raises(InvalidRequestError) as limiter:
        RedisAssetLimiter(url)
    assert limiter.value.field == "redis"
    with pytest.raises(InvalidRequestError) as coordinator:
        RedisCoordinator(url)
    assert coordinator.value.field == "coordinator"


def test_a_bad_url_never_shows_its_password():
    """The refusal names where Redis was meant to be, without the URL's password."""
    with pytest.raises(InvalidRequestError) as caught:
        RedisCoordinator("redis://:hunter2@h:notaport/0")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(InvalidRequestError) as caught:
        RedisAssetLimiter("https://:hunter2@cache.example/0")
    assert "hunter2" not in str(caught.value)
    assert "cache.example" in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://cache",
        "rediss://:pw@cache.example:6380/2",
        "unix:///run/redis.sock",
        "redis://[::1]:6379/0",
    ],
)
def test_good_urls_are_accepted_without_connecting(url: str):
    """Valid URLs build both objects (no socket is opened here: tests/unit forbids it)."""
    assert RedisAssetLimiter(url).slots == 5
    assert RedisCoordinator(url).batch is None


def test_a_client_object_other_than_redis_is_refused():
    """Something that is neither a URL nor a redis.asyncio.Redis: InvalidRequestError."""
    for bad in (42, object(), b"redis://h/0"):
        with pytest.raises(InvalidRequestError):
            RedisAssetLimiter(bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError):
            RedisCoordinator(bad)  # type: ignore[arg-type]


def test_import_argil_async_limits_and_batch_do_not_import_redis():
    """`import argil_async`, `.limits` and `.batch` (even the Redis limiter's class) leave
    redis alone: an optional extra, imported when a limiter or coordinator connects."""
    code = (
        "import sys, argil_async, argil_async.limits, argil_async.batch; "
        "from argil_async.limits import RedisAssetLimiter; "
        "assert 'redis' not in sys.modules, 'redis imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

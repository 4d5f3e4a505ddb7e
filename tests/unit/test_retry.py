"""The retry policy: what is resent, how often, and what never is."""

from __future__ import annotations

import time

import pytest
from multidict import CIMultiDict
from support.fakes import json_response, scripted_client

from argil_async import (
    APIConnectionError,
    APITimeoutError,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
)
from argil_async._status import parse_retry_after

VIDEO = {"id": "v1", "name": "x", "status": "IDLE"}


def _dropped(maybe_sent: bool) -> APIConnectionError:
    error = APIConnectionError("connection dropped")
    error.maybe_sent = maybe_sent
    return error


async def test_get_retried_on_5xx_then_succeeds():
    """A GET that meets two 503s is resent and returns the third answer."""
    client, transport = scripted_client(
        json_response(503, {"code": 503, "message": "busy"}),
        json_response(500, {"code": 500, "message": "oops"}),
        json_response(200, VIDEO),
    )
    video = await client.videos.get("v1")
    assert video.id == "v1"
    assert len(transport.requests) == 3


@pytest.mark.parametrize("status", [501, 507, 520, 524])
async def test_every_5xx_is_retried_for_a_get(status: int):
    """Any 5xx (a CDN's 520-524 too) is retried for a GET, as the policy says."""
    client, transport = scripted_client(
        json_response(status, {"code": status, "message": "edge"}), json_response(200, VIDEO)
    )
    assert (await client.videos.get("v1")).id == "v1"
    assert len(transport.requests) == 2


def test_retry_after_on_a_503_is_honoured_and_capped():
    """A 503's Retry-After sets the wait; one above the cap gives up at once."""
    policy = RetryPolicy()
    busy = InternalServerError("x", status_code=503, headers=CIMultiDict({"retry-after": "4"}))
    assert policy.wait_for(busy, 0) == 4.0
    assert policy.should_retry(busy, idempotent=True)
    closed = InternalServerError("x", status_code=503, headers={"Retry-After": "3600"})
    assert not policy.should_retry(closed, idempotent=True)


async def test_retries_stop_after_max_retries():
    """After max_retries resends the last error is raised."""
    client, transport = scripted_client(
        *[json_response(502, {"code": 502, "message": "bad gateway"})] * 3, max_retries=2
    )
    with pytest.raises(InternalServerError) as info:
        await client.videos.get("v1")
    assert info.value.status_code == 502
    assert len(transport.requests) == 3


async def test_post_videos_not_resent_after_dropped_connection():
    """POST /videos is not resent when the connection broke after the request may have landed."""
    client, transport = scripted_client(_dropped(maybe_sent=True))
    with pytest.raises(APIConnectionError):
        await client.videos.create(name="x", moments=[{"avatarId": "a", "transcript": "hi"}])
    assert len(transport.requests) == 1


async def test_post_videos_not_resent_after_5xx():
    """A 500 on POST /videos may have created the video, so it is not resent."""
    client, transport = scripted_client(json_response(500, {"code": 500, "message": "x"}))
    with pytest.raises(InternalServerError):
        await client.videos.create(name="x", moments=[{"avatarId": "a", "transcript": "hi"}])
    assert len(transport.requests) == 1


async def test_render_after_5xx_reads_the_status_instead_of_resending():
    """A 500 on a render may have started it: a GET that shows it under way ends the call."""
    client, transport = scripted_client(
        json_response(500, {"code": 500, "message": "x"}),
        json_response(200, {**VIDEO, "status": "GENERATING_AUDIO"}),
    )
    video = await client.videos.render("v1")
    assert video.status == "GENERATING_AUDIO"
    assert [(r.method, r.path) for r in transport.requests] == [
        ("POST", "/videos/v1/render"),
        ("GET", "/videos/v1"),
    ]


async def test_post_videos_resent_after_connect_failure():
    """A POST whose connection never opened is safe to resend."""
    client, transport = scripted_client(_dropped(maybe_sent=False), json_response(201, VIDEO))
    video = await client.videos.create(name="x", moments=[{"avatarId": "a", "transcript": "hi"}])
    assert video.id == "v1"
    assert len(transport.requests) == 2


async def test_post_videos_resent_after_429():
    """A 429 means the server did not act, so even a render is resent."""
    client, transport = scripted_client(
        json_response(429, {"code": 429, "message": "slow down"}, {"Retry-After": "0"}),
        json_response(200, {**VIDEO, "status": "GENERATING_AUDIO"}),
    )
    video = await client.videos.render("v1")
    assert video.status == "GENERATING_AUDIO"
    assert len(transport.requests) == 2


async def test_post_assets_is_resent_after_dropped_connection():
    """POST /assets is idempotent (duplicates answer 200), so it is resent."""
    asset = {"id": "a1", "status": "READY", "type": "IMAGE"}
    client, transport = scripted_client(_dropped(maybe_sent=True), json_response(200, asset))
    result = await client.assets.upload(
        name="n", type="IMAGE", url="https://x.test/a.png", wait=False
    )
    assert result.id == "a1"
    assert len(transport.requests) == 2


async def test_timeouts_are_retried_for_gets():
    """A read timeout on a GET is retried."""
    client, transport = scripted_client(APITimeoutError("slow"), json_response(200, VIDEO))
    assert (await client.videos.get("v1")).id == "v1"
    assert len(transport.requests) == 2


async def test_retry_after_above_cap_raises_at_once():
    """A Retry-After beyond the cap raises RateLimitError at once, carrying retry_after."""
    client, transport = scripted_client(
        json_response(429, {"code": 429, "message": "later"}, {"Retry-After": "3600"})
    )
    with pytest.raises(RateLimitError) as info:
        await client.videos.get("v1")
    assert info.value.retry_after == 3600
    assert len(transport.requests) == 1


async def test_400_is_never_retried():
    """A 4xx other than 408/429 is raised without a resend."""
    client, transport = scripted_client(json_response(404, {"code": 404, "message": "nope"}))
    with pytest.raises(Exception, match="nope"):
        await client.videos.get("v1")
    assert len(transport.requests) == 1


def test_retry_after_parses_seconds_and_http_dates():
    """Retry-After is read as seconds or as an HTTP date relative to now."""
    now = time.time()
    date = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(now + 30))
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("1.5") == 1.5
    assert 28 <= (parse_retry_after(date, now=now) or 0) <= 31
    assert parse_retry_after("garbage") is None
    assert parse_retry_after(None) is None


def test_waits_honour_retry_after_and_cap_exponential_backoff():
    """The wait is Retry-After when given, else jittered exponential capped at 8 s."""
    policy = RetryPolicy()
    limited = RateLimitError("x", status_code=429, retry_after=4.0)
    assert policy.wait_for(limited, 0) == 4.0
    for attempt in range(10):
        wait = policy.wait_for(InternalServerError("x", status_code=500), attempt)
        assert 0 <= wait <= min(8.0, 0.5 * 2**attempt)

"""Per-call options and copies of the client against the simulator, and response metadata."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Awaitable, Callable

import pytest
from support.client_fixtures import client_for

from argil_async import (
    APITimeoutError,
    Argil,
    AsyncArgil,
    InternalServerError,
    InvalidRequestError,
    Moment,
    RawResponse,
    RetryPolicy,
    Timeout,
    with_raw_response,
)
from argil_async.testing import ArgilSimulator

SimFactory = Callable[..., Awaitable[ArgilSimulator]]


async def test_extra_headers_query_and_body_reach_the_server(sim_factory: SimFactory):
    """extra_headers/extra_query ride on every request; extra_body is merged into JSON bodies."""
    sim = await sim_factory(check_spec=False)  # the extra query is off-spec on purpose
    async with client_for(sim) as client:
        tuned = client.with_options(
            extra_headers={"X-Debug": "on"},
            extra_query={"trace": "1"},
            extra_body={"type": "moments"},  # documented, not modelled by the SDK
        )
        avatar = (await tuned.avatars.list())[0]
        await tuned.videos.create(
            name="v", moments=[Moment(avatar_id=avatar.id, transcript="Hello")]
        )
    get, post = sim.received
    assert post.headers["x-debug"] == get.headers["x-debug"] == "on"
    assert post.query_string == get.query_string == "trace=1"
    body = json.loads(post.body)
    assert body["type"] == "moments"
    assert body["moments"][0]["avatarId"] == avatar.id
    assert get.body == b""


async def test_with_options_shares_session_and_limiter(sim: ArgilSimulator):
    """A copy shares the HTTP session and the asset limiter, and keeps its own defaults."""
    async with client_for(sim) as client:
        copy = client.with_options(max_retries=0, timeout=5)
        assert copy._transport is client._transport
        assert copy._asset_limiter is client._asset_limiter
        assert (copy.max_retries, copy.timeout.read) == (0, 5.0)
        assert (client.max_retries, client.timeout.read) == (2, 60.0)
        assert copy.videos._client is copy
        assert (await copy.avatars.list()) == (await client.avatars.list())


async def test_max_retries_option_limits_resends(sim: ArgilSimulator):
    """max_retries=0 sends once where the client's default (2) sends three times."""
    sim.config.server_error_every = 1
    async with client_for(sim) as client:
        with pytest.raises(InternalServerError):
            await client.with_options(max_retries=0).avatars.list()
        assert len(sim.received) == 1
        with pytest.raises(InternalServerError):
            await client.avatars.list()
    assert len(sim.received) == 4


async def test_timeout_option_bounds_one_request(sim: ArgilSimulator):
    """A per-call timeout shorter than the server's latency raises APITimeoutError."""
    sim.config.latency = 1.0
    async with client_for(sim, max_retries=0) as client:
        with pytest.raises(APITimeoutError):
            await client.with_options(timeout=0.05).avatars.list()


async def test_total_deadline_covers_retries_and_waits(sim: ArgilSimulator):
    """Timeout(total=...) stops a call mid-retry: waits of 30 s never happen."""
    sim.config.rate_limit_every = 1
    sim.config.retry_after = 30
    policy = RetryPolicy(max_retries=5, retry_after_cap=60)
    async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url, retry_policy=policy) as c:
        with pytest.raises(APITimeoutError, match=r"within 0\.2 s"):
            await c.with_options(timeout=Timeout(total=0.2)).avatars.list()
    assert len(sim.received) == 1


async def test_raw_response_tells_new_from_existing_asset(sim: ArgilSimulator):
    """upload() through with_raw_response: 201 for a new asset, 200 for the same URL again."""
    async with client_for(sim) as client:
        first = await with_raw_response(
            client.assets.upload, name="logo", type="IMAGE", url="https://x.test/a.png"
        )
        again = await with_raw_response(
            client.assets.upload, name="logo", type="IMAGE", url="https://x.test/a.png"
        )
    assert isinstance(first, RawResponse)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.parse().id == again.parse().id
    assert first.parse().status == "READY"
    assert first.responses[0].path == "/assets"
    assert first.request_id == sim.received[0].request_id
    assert first.headers["Content-Type"].startswith("application/json")


async def test_raw_response_counts_retries(sim: ArgilSimulator):
    """retries counts the resends behind a success; elapsed covers all of them."""
    async with client_for(sim) as client:
        avatars = await client.avatars.list()
        sim.config.server_error_every = 2  # counted from here: the 2nd request fails once
        await client.voices.list()
        raw = await with_raw_response(client.avatars.get, avatars[0].id)
    assert raw.parse() == avatars[0]
    assert (raw.status_code, raw.retries) == (200, 1)
    assert raw.request_id == sim.received[-1].request_id
    assert raw.elapsed > 0
    assert raw.responses[0].path == "/avatars/{id}"


async def test_concurrent_raw_responses_stay_apart(sim: ArgilSimulator):
    """Concurrent calls each get their own metadata, never another call's."""
    sim.config.latency = 0.02
    async with client_for(sim) as client:
        raws = await asyncio.gather(
            *(with_raw_response(m) for m in [client.avatars.list, client.voices.list] * 5),
            client.webhooks.list(),  # an unobserved call in the middle
        )
    paths = [[r.path for r in raw.responses] for raw in raws[:-1]]
    assert paths == [["/avatars"], ["/voices"]] * 5
    ids = [raw.request_id for raw in raws[:-1]]
    assert len(set(ids)) == 10
    assert set(ids) <= {r.request_id for r in sim.received}


def test_sync_client_options_and_raw_response():
    """The sync client: with_options shares its loop thread; with_raw_response needs no await."""
    with (
        ArgilSimulator.in_thread(server_error_every=1) as sim,
        Argil(api_key=sim.api_key, base_url=sim.base_url) as client,
    ):
        quick = client.with_options(max_retries=0)
        with pytest.raises(InternalServerError):
            quick.avatars.list()
        assert len(sim.received) == 1
        assert quick._runtime.thread is client._runtime.thread
        sim.config.server_error_every = None
        raw = with_raw_response(client.avatars.list)
        assert raw.status_code == 200
        assert raw.request_id == sim.received[-1].request_id
        assert raw.parse() == client.avatars.list()


async def test_with_raw_response_attribute(sim: ArgilSimulator):
    """client.<resource>.with_raw_response.<method>(...) answers as the function form does."""
    async with client_for(sim) as client:
        first = await client.assets.with_raw_response.upload(
            name="logo", type="IMAGE", url="https://x.test/a.png"
        )
        again = await client.assets.with_raw_response.upload(
            name="logo", type="IMAGE", url="https://x.test/a.png", max_retries=0
        )
        avatars = await client.avatars.with_raw_response.list()
        video = await client.videos.with_raw_response.create(
            name="v", moments=[Moment(avatar_id=avatars.parse()[0].id, transcript="Hi")]
        )
        fetched = await client.videos.with_raw_response.get(video.parse().id, timeout=5)
    assert (first.status_code, again.status_code, video.status_code) == (201, 200, 201)
    assert first.parse().id == again.parse().id
    assert fetched.parse().id == video.parse().id
    assert fetched.request_id == sim.received[-1].request_id
    assert fetched.responses[0].path == "/videos/{id}"
    assert client.videos.with_raw_response.get.__name__ == "get"


def test_with_raw_response_attribute_on_the_sync_client():
    """The sync client's view needs no await and reports the request it sent."""
    with (
        ArgilSimulator.in_thread() as sim,
        Argil(api_key=sim.api_key, base_url=sim.base_url) as client,
    ):
        raw = client.avatars.with_raw_response.list()
        one = client.avatars.with_raw_response.get(raw.parse()[0].id)
    assert isinstance(raw, RawResponse)
    assert (raw.status_code, one.status_code) == (200, 200)
    assert one.parse() == raw.parse()[0]
    assert one.request_id == sim.received[-1].request_id


@pytest.mark.parametrize("client_class", [AsyncArgil, Argil])
def test_every_method_has_a_raw_twin(client_class: type):
    """Each resource's with_raw_response view offers every public method but the paginators."""
    client = client_class(api_key="k", base_url="https://api.test/v1")
    for name in ("assets", "avatars", "voices", "videos", "subtitles", "webhooks"):
        resource = getattr(client, name)
        view = resource.with_raw_response
        expected = {
            attr
            for attr in dir(type(resource))
            if not attr.startswith("_")
            and attr != "with_raw_response"
            and "Paginator" not in str(inspect.signature(getattr(resource, attr)).return_annotation)
        }
        offered = {attr for attr in dir(type(view)) if not attr.startswith("_")}
        assert offered == expected, name
    if client_class is Argil:
        client.close()


async def test_per_call_options_on_methods(sim_factory: SimFactory):
    """timeout, max_retries and the extras work as keywords of the methods themselves."""
    sim = await sim_factory(check_spec=False)  # extra_query is off-spec on purpose
    async with client_for(sim) as client:
        avatar = (await client.avatars.list(extra_headers={"X-Call": "list"}))[0]
        video = await client.videos.create(
            name="v",
            moments=[{"avatar_id": avatar.id, "transcript": "Hi"}],  # snake_case dict keys
            extra_body={"type": "moments"},
            extra_query={"trace": "1"},
        )
        sim.config.server_error_every = 1
        with pytest.raises(InternalServerError):
            await client.videos.get(video.id, max_retries=0)
        sim.config.server_error_every = None
        sim.config.latency = 1.0
        with pytest.raises(APITimeoutError):
            await client.videos.get(video.id, timeout=0.05, max_retries=0)
        sim.config.latency = 0.0
        page = await client.assets.list(extra_headers={"X-Call": "page"}).fetch_page(1)
    listed, created, failed, _timed_out, paged = sim.received
    assert listed.headers["x-call"] == "list"
    assert json.loads(created.body)["type"] == "moments"
    assert json.loads(created.body)["moments"][0]["avatarId"] == avatar.id
    assert created.query_string == "trace=1"
    assert failed.route == "GET /videos/{id}"
    assert paged.headers["x-call"] == "page"
    assert page.items is not None


async def test_waiters_pass_options_to_each_poll(sim: ArgilSimulator):
    """A waiter keeps its own timeout (the whole wait) and sends the options with each poll."""
    async with client_for(sim) as client:
        asset = await client.assets.upload(
            name="a", type="IMAGE", url="https://x.test/a.png", wait=False
        )
        ready = await client.assets.wait_until_ready(
            asset.id, timeout=30, poll_interval=0.01, extra_headers={"X-Poll": "1"}
        )
    assert ready.status == "READY"
    polls = [r for r in sim.received if r.route == "GET /assets/{id}"]
    assert polls
    assert all(r.headers["x-poll"] == "1" for r in polls)


def test_sync_methods_take_options():
    """The sync twins forward the options."""
    with (
        ArgilSimulator.in_thread(server_error_every=1) as sim,
        Argil(api_key=sim.api_key, base_url=sim.base_url) as client,
    ):
        with pytest.raises(InternalServerError):
            client.avatars.list(max_retries=0)
        assert len(sim.received) == 1
        with pytest.raises(InvalidRequestError):
            client.avatars.list(retries=3)  # type: ignore[call-arg]
        assert len(sim.received) == 1


async def test_client_total_timeout_is_a_call_deadline(sim: ArgilSimulator):
    """AsyncArgil(timeout=Timeout(total=...)) bounds each call, retries and waits included."""
    sim.config.rate_limit_every = 1
    sim.config.retry_after = 30
    policy = RetryPolicy(max_retries=5, retry_after_cap=60)
    async with AsyncArgil(
        api_key=sim.api_key, base_url=sim.base_url, retry_policy=policy, timeout=Timeout(total=0.2)
    ) as client:
        with pytest.raises(APITimeoutError, match=r"within 0\.2 s"):
            await client.avatars.list()
    assert len(sim.received) == 1

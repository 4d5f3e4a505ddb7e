"""Safe paid calls: idempotent creates, checked renders, and videos.generate, on the simulator."""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any

import pytest
from support.client_fixtures import client_for

from argil_async import (
    APIConnectionError,
    Argil,
    AsyncArgil,
    BadRequestError,
    GenerationFailedError,
    InternalServerError,
    InvalidRequestError,
    Moment,
    Video,
    WaitTimeoutError,
)
from argil_async.events import WebhookReceiver
from argil_async.testing import ArgilSimulator

CREATE = "POST /videos"
RENDER = "POST /videos/{id}/render"
GET = "GET /videos/{id}"
KEY = "argilIdempotencyKey"
FAST = 0.02


def moments(sim: ArgilSimulator) -> list[Moment]:
    avatar = next(iter(sim.state.avatars.values()))
    return [Moment(avatar_id=avatar.id, transcript="Hello from the paid-call tests")]


async def make(sim_factory: Any, **faults: Any) -> tuple[ArgilSimulator, AsyncArgil]:
    sim = await sim_factory(**faults)
    return sim, client_for(sim)


# -- create with an idempotency key -------------------------------------------------------


async def test_a_second_create_with_the_same_key_returns_the_first_video(
    sim: ArgilSimulator, client: AsyncArgil
):
    """Creating twice with one key gives one video (and one POST); the key rides in extras."""
    first = await client.videos.create(name="a", moments=moments(sim), idempotency_key="k-1")
    again = await client.videos.create(name="a", moments=moments(sim), idempotency_key="k-1")
    other = await client.videos.create(name="a", moments=moments(sim), idempotency_key="k-2")
    assert again.id == first.id != other.id
    assert sim.stats.by_route[CREATE] == 2
    assert sim.state.videos[first.id].extras == {KEY: "k-1"}


async def test_a_create_dropped_after_it_landed_is_found_not_resent(sim_factory: Any):
    """The connection drops after the server stored the video: the key finds it; one video."""
    sim, client = await make(
        sim_factory, drop_every=1, fault_methods=frozenset({"POST"}), fault_path_prefix="/videos"
    )
    async with client:
        video = await client.videos.create(
            name="d", moments=moments(sim), extras={"user": "7"}, idempotency_key="drop-1"
        )
    assert list(sim.state.videos) == [video.id]
    assert sim.state.videos[video.id].extras == {"user": "7", KEY: "drop-1"}
    assert sim.stats.by_route[CREATE] == 1
    assert sim.stats.drops_by_route == {CREATE: 1}


async def test_without_a_key_the_dropped_create_is_an_error_but_did_land(sim_factory: Any):
    """The fault really drops after processing: a keyless create fails yet the video exists."""
    sim, client = await make(
        sim_factory, drop_every=1, fault_methods=frozenset({"POST"}), fault_path_prefix="/videos"
    )
    async with client:
        with pytest.raises(APIConnectionError):
            await client.videos.create(name="d", moments=moments(sim))
    assert len(sim.state.videos) == 1
    assert sim.stats.by_route[CREATE] == 1


async def test_a_5xx_create_that_did_not_land_is_sent_again_once(sim_factory: Any):
    """A 5xx (refused before storing) is looked up, not found, and resent: one video in the end."""
    sim, client = await make(sim_factory, server_error_every=2, fault_methods=frozenset({"POST"}))
    async with client:
        await client.videos.create(name="x", moments=moments(sim))  # POST 1 passes
        video = await client.videos.create(name="y", moments=moments(sim), idempotency_key="5xx")
    assert sim.stats.injected_5xx == 1
    assert sim.stats.by_route[CREATE] == 3
    assert [v.id for v in sim.state.videos_with_extras(**{KEY: "5xx"})] == [video.id]


async def test_uncertain_failures_stop_after_the_retry_budget(sim_factory: Any):
    """When every create fails with a 5xx, the error is raised after max_retries resends."""
    sim = await sim_factory(server_error_every=1, fault_methods=frozenset({"POST"}))
    async with client_for(sim, max_retries=2) as client:
        with pytest.raises(InternalServerError):
            await client.videos.create(name="z", moments=moments(sim), idempotency_key="k")
    assert sim.stats.by_route[CREATE] == 3
    assert sim.state.videos == {}


async def test_racing_creates_with_one_key_all_return_one_video(sim_factory: Any):
    """4 creates with one key at once all land (no dedup in the API), yet all keep one video."""
    sim, client = await make(sim_factory, latency=0.2)  # every lookup answers before any create
    async with client:
        videos = await asyncio.gather(
            *(
                client.videos.create(name="r", moments=moments(sim), idempotency_key="twice")
                for _ in range(4)
            )
        )
    assert sim.stats.by_route[CREATE] == 4  # the race really happened
    assert len({video.id for video in videos}) == 1
    assert list(sim.state.videos) == [videos[0].id]  # the 3 extra IDLE videos were deleted
    assert sim.stats.by_route["DELETE /videos/{id}"] == 3


async def test_racing_generates_with_one_key_render_one_video(sim_factory: Any):
    """A request submitted twice (two workers, one key) renders, and pays for, one video."""
    sim, client = await make(sim_factory, latency=0.2)
    async with client:
        videos = await asyncio.gather(
            *(
                client.videos.generate(
                    name="r", moments=moments(sim), idempotency_key="double", poll_interval=FAST
                )
                for _ in range(3)
            )
        )
    assert sim.stats.by_route[CREATE] == 3
    assert {(video.id, video.status) for video in videos} == {(videos[0].id, "DONE")}
    assert list(sim.state.videos) == [videos[0].id]  # only one video exists, rendered once


@pytest.mark.parametrize("how", ["call", "with_options"])
async def test_a_keyed_create_honours_max_retries_of_the_call(sim_factory: Any, how: str):
    """max_retries=0 for one call (or a with_options copy) sends a keyed create once, no resend."""
    sim = await sim_factory(server_error_every=1, fault_methods=frozenset({"POST"}))
    async with client_for(sim, max_retries=3) as client:
        caller = client.with_options(max_retries=0) if how == "with_options" else client
        extra = {"max_retries": 0} if how == "call" else {}
        with pytest.raises(InternalServerError):
            await caller.videos.create(
                name="z", moments=moments(sim), idempotency_key="once", **extra
            )
    assert sim.stats.by_route[CREATE] == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "a\nb"}, "idempotency_key"),
        ({"idempotency_key": 5}, "idempotency_key"),
        ({"idempotency_key": "x" * 257}, "idempotency_key"),
        ({"extras": {KEY: "mine"}}, f"extras[{KEY!r}]"),
        ({"extras": {KEY: "mine"}, "idempotency_key": "other"}, f"extras[{KEY!r}]"),
        ({"extras": ["not", "a", "mapping"], "idempotency_key": "k"}, "extras"),
    ],
)
async def test_bad_keys_and_the_reserved_extra_are_refused_before_sending(
    sim: ArgilSimulator, client: AsyncArgil, arguments: dict[str, Any], field: str
):
    """Invalid keys, or argilIdempotencyKey set by hand, raise InvalidRequestError; nothing sent."""
    with pytest.raises(InvalidRequestError) as caught:
        await client.videos.create(name="n", moments=moments(sim), **arguments)
    assert caught.value.field == field
    assert sim.stats.requests == 0


# -- render after an uncertain failure ----------------------------------------------------


async def test_a_render_dropped_after_it_landed_is_not_sent_again(sim_factory: Any):
    """The render's answer is lost: its status (no longer IDLE) is read instead of resending."""
    sim, client = await make(
        sim_factory, drop_every=2, fault_methods=frozenset({"POST"}), fault_path_prefix="/videos"
    )
    async with client:
        video = await client.videos.create(name="r", moments=moments(sim))  # POST 1 passes
        rendering = await client.videos.render(video.id)  # POST 2 lands, then drops
        done = await client.videos.wait_until_done(video.id, timeout=30, poll_interval=FAST)
    assert rendering.status != "IDLE"
    assert done.status == "DONE"
    assert sim.stats.by_route[RENDER] == 1


async def test_a_render_refused_with_a_5xx_is_sent_again_after_checking(sim_factory: Any):
    """A 5xx render (not processed) leaves the video IDLE, so it is sent again, and renders."""
    sim, client = await make(sim_factory, server_error_every=2, fault_methods=frozenset({"POST"}))
    async with client:
        video = await client.videos.create(name="r", moments=moments(sim))
        await client.videos.render(video.id)
        done = await client.videos.wait_until_done(video.id, timeout=30, poll_interval=FAST)
    assert done.status == "DONE"
    assert (sim.stats.by_route[RENDER], sim.stats.injected_5xx) == (2, 1)


async def test_rendering_a_rendered_video_is_still_refused(sim: ArgilSimulator, client: AsyncArgil):
    """With no doubt about an earlier attempt, a 400 (not IDLE) reaches the caller as before."""
    video = await client.videos.create(name="r", moments=moments(sim))
    await client.videos.render(video.id)
    with pytest.raises(BadRequestError):
        await client.videos.render(video.id)
    assert sim.stats.by_route[RENDER] == 2


# -- generate -----------------------------------------------------------------------------


async def test_generate_creates_renders_waits_and_reports(sim: ArgilSimulator, client: AsyncArgil):
    """generate() ends DONE; on_created sees the IDLE video first; on_status sees each change."""
    calls: list[tuple[str, str]] = []

    async def created(video: Video) -> None:
        calls.append(("created", video.status))

    video = await client.videos.generate(
        name="g",
        moments=moments(sim),
        poll_interval=FAST,
        on_created=created,
        on_status=lambda video: calls.append(("status", video.status)),
    )
    assert video.status == "DONE"
    assert video.video_url
    statuses = [status for kind, status in calls if kind == "status"]
    assert calls[0] == ("created", "IDLE")
    assert statuses[0] == "IDLE"
    assert statuses[-1] == "DONE"
    assert len(statuses) == len(set(statuses))
    assert sim.stats.by_route[RENDER] == 1
    assert KEY in sim.state.videos[video.id].extras


async def test_generate_again_with_the_key_returns_the_video_without_paying_twice(
    sim: ArgilSimulator, client: AsyncArgil
):
    """A repeated generate (a retried web request) finds the video and does not render again."""
    first = await client.videos.generate(
        name="g", moments=moments(sim), idempotency_key="order-42", poll_interval=FAST
    )
    again = await client.videos.generate(
        name="g", moments=moments(sim), idempotency_key="order-42", poll_interval=FAST
    )
    assert again.id == first.id
    assert again.status == "DONE"
    assert (sim.stats.by_route[CREATE], sim.stats.by_route[RENDER]) == (1, 1)


async def test_generate_resumes_a_video_created_but_never_rendered(
    sim: ArgilSimulator, client: AsyncArgil
):
    """A video left IDLE under the key (a crash after the create) is rendered, not recreated."""
    idle = await client.videos.create(name="g", moments=moments(sim), idempotency_key="resume")
    video = await client.videos.generate(
        name="g", moments=moments(sim), idempotency_key="resume", poll_interval=FAST
    )
    assert video.id == idle.id
    assert video.status == "DONE"
    assert sim.stats.by_route[CREATE] == 1


async def test_generate_raises_typed_errors_for_failed_and_late_videos(
    sim_factory: Any,
):
    """A failed render is GenerationFailedError; a render past the timeout is WaitTimeoutError."""
    sim = await sim_factory(render_video_time=5.0)
    async with client_for(sim) as client:
        with pytest.raises(WaitTimeoutError):
            await client.videos.generate(
                name="slow", moments=moments(sim), timeout=0.2, poll_interval=FAST
            )
        sim.config.render_video_time = 0.05
        with pytest.raises(GenerationFailedError) as caught:
            await client.videos.generate(
                name="bad",
                moments=moments(sim),
                extras={"simOutcome": "FAILED"},
                poll_interval=FAST,
            )
    assert caught.value.resource.status == "FAILED"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"timeout": 0}, "timeout"),
        ({"poll_interval": -1}, "poll_interval"),
        ({"on_created": "print"}, "on_created"),
        ({"on_status": 3}, "on_status"),
        ({"callback_url": "http://example.com/hook"}, "callback_url"),
    ],
)
async def test_generate_checks_its_own_arguments_before_creating(
    sim: ArgilSimulator, client: AsyncArgil, arguments: dict[str, Any], field: str
):
    """Bad waits, callbacks or callback URLs are refused before a video is created."""
    with pytest.raises(InvalidRequestError) as caught:
        await client.videos.generate(name="n", moments=moments(sim), **arguments)
    assert caught.value.field == field
    assert sim.stats.requests == 0


async def test_on_created_failing_stops_before_the_render(sim: ArgilSimulator, client: AsyncArgil):
    """An exception in on_created (say the database is down) propagates; nothing is rendered."""

    def broken(video: Video) -> None:
        raise RuntimeError("database down")

    with pytest.raises(RuntimeError, match="database down"):
        await client.videos.generate(name="n", moments=moments(sim), on_created=broken)
    assert sim.stats.by_route[RENDER] == 0


# -- waiting on a receiver and polling at once --------------------------------------------


async def test_the_webhook_ends_the_wait_long_before_the_next_poll(
    sim: ArgilSimulator, client: AsyncArgil
):
    """With a 10-minute poll interval, the delivery ends the wait after two GETs, not 10 min."""
    receiver = WebhookReceiver("t")
    async with receiver.serve() as url:
        video = await client.videos.generate(
            name="w",
            moments=moments(sim),
            callback_url=url,
            receiver=receiver,
            poll_interval=600,
            timeout=3600,
        )
    assert video.status == "DONE"
    assert receiver.received == 1
    assert sim.stats.by_route[GET] == 2  # the first poll, then the one the webhook triggered


async def test_a_delivery_taken_by_another_worker_only_delays_the_answer(
    sim: ArgilSimulator, client: AsyncArgil
):
    """The event lands on another worker's receiver: this one's wait still ends by polling."""
    mine, other = WebhookReceiver("shared"), WebhookReceiver("shared")
    async with other.serve() as url:
        video = await client.videos.generate(
            name="w", moments=moments(sim), callback_url=url, receiver=mine, poll_interval=FAST
        )
    assert video.status == "DONE"
    assert (mine.received, other.received) == (0, 1)


async def test_wait_until_done_ends_on_the_delivery_without_the_next_poll(
    sim: ArgilSimulator, client: AsyncArgil
):
    """wait_until_done(receiver=) with a 10-minute poll interval returns once the event lands."""
    receiver = WebhookReceiver("t")
    async with receiver.serve() as url:
        video = await client.videos.create(name="w", moments=moments(sim))
        await client.videos.render(video.id, callback_url=url)
        done = await client.videos.wait_until_done(
            video.id, receiver=receiver, poll_interval=600, timeout=3600
        )
    assert done.status == "DONE"
    assert receiver.received == 1
    assert sim.stats.by_route[GET] == 2  # the first poll, then the one the webhook triggered


async def test_a_lost_delivery_only_delays_wait_until_done(sim: ArgilSimulator, client: AsyncArgil):
    """The delivery never arrives (nothing listens at its URL): polling still ends the wait."""
    receiver = WebhookReceiver("t")
    async with receiver.serve() as url:
        lost_url = url  # the server stops below, so the delivery finds no one
    video = await client.videos.create(name="w", moments=moments(sim))
    await client.videos.render(video.id, callback_url=lost_url)
    done = await client.videos.wait_until_done(
        video.id, receiver=receiver, poll_interval=FAST, timeout=30
    )
    await sim.drain()
    assert done.status == "DONE"
    assert receiver.received == 0
    assert [d.status for d in sim.deliveries] == [None]  # the delivery really was lost


def test_the_sync_twin_generates_with_callbacks(spec_checker: Any):
    """Argil.videos.generate does the same in sync code; callbacks run and see the changes."""
    statuses: list[str] = []
    with ArgilSimulator.in_thread() as sim, Argil(api_key=sim.api_key, base_url=sim.base_url) as c:
        sim.on_exchange = spec_checker
        video = c.videos.generate(
            name="s",
            moments=moments(sim),
            idempotency_key="sync-1",
            poll_interval=FAST,
            on_status=lambda video: statuses.append(video.status),
        )
        again = c.videos.generate(name="s", moments=moments(sim), idempotency_key="sync-1")
    assert video.status == "DONE"
    assert again.id == video.id
    assert statuses[0] == "IDLE"
    assert statuses[-1] == "DONE"
    assert not spec_checker.failures, spec_checker.report()


def test_the_sync_twin_waits_on_a_receiver_served_by_another_thread(spec_checker: Any):
    """Sync generate(receiver=) ends on a delivery taken on another thread's loop, not a poll."""
    receiver = WebhookReceiver("t")
    urls: queue.Queue[str] = queue.Queue()
    stop = threading.Event()

    async def serve() -> None:
        async with receiver.serve() as url:
            urls.put(url)
            while not stop.is_set():
                await asyncio.sleep(0.02)

    server = threading.Thread(target=asyncio.run, args=(serve(),))
    server.start()
    try:
        url = urls.get(timeout=30)
        with ArgilSimulator.in_thread() as sim, client_for_sync(sim) as client:
            sim.on_exchange = spec_checker
            video = client.videos.generate(
                name="s", moments=moments(sim), callback_url=url, receiver=receiver,
                poll_interval=600, timeout=3600,
            )  # fmt: skip
            gets = sim.stats.by_route[GET]
    finally:
        stop.set()
        server.join(30)
    assert video.status == "DONE"
    assert receiver.received == 1
    assert gets == 2  # the first poll, then the one the delivery triggered
    assert not spec_checker.failures, spec_checker.report()


def client_for_sync(sim: ArgilSimulator) -> Argil:
    return Argil(api_key=sim.api_key, base_url=sim.base_url)

"""Webhooks: CRUD and the deliveries that reach a local receiver."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from sim_http import Api

from argil_async.testing import ArgilSimulator

ALL_EVENTS = [
    "AVATAR_TRAINING_SUCCESS",
    "AVATAR_TRAINING_FAILED",
    "VIDEO_GENERATION_SUCCESS",
    "VIDEO_GENERATION_FAILED",
]


class Receiver:
    """A local aiohttp server recording the JSON POSTed to it."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.path, json.loads(await request.read())))
        return web.Response(status=204 if request.path == "/hook" else 500)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    """A webhook receiver on a free loopback port."""
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}"
    yield receiver
    await runner.cleanup()


async def test_crud(sim: ArgilSimulator, api: Api):
    """Create 201, list, partial PUT 200 (updatedAt bumped), DELETE 204 without body, then 404."""
    created = await api.post(
        "/webhooks", json={"callbackUrl": "https://h.test/a", "events": ALL_EVENTS[:1]}
    )
    assert created.status == 201
    hook = created.json()
    assert "lastTriggeredAt" not in hook
    assert [w["id"] for w in (await api.get("/webhooks")).json()] == [hook["id"]]
    updated = await api.put(f"/webhooks/{hook['id']}", json={"events": ALL_EVENTS})
    assert updated.status == 200
    assert (updated.json()["callbackUrl"], updated.json()["events"]) == (
        "https://h.test/a",
        ALL_EVENTS,
    )
    assert updated.json()["updatedAt"] >= hook["updatedAt"]
    deleted = await api.delete(f"/webhooks/{hook['id']}")
    assert (deleted.status, deleted.body) == (204, b"")
    assert (await api.delete(f"/webhooks/{hook['id']}")).status == 404
    assert (await api.put(f"/webhooks/{hook['id']}", json={})).status == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"callbackUrl": "https://h.test", "events": []}, "events: must be a non-empty array"),
        ({"callbackUrl": "https://h.test", "events": ["VIDEO_DONE"]}, "events[0]: must be one of"),
        (
            {"callbackUrl": "https://h.test", "events": ALL_EVENTS, "secret": "x"},
            "secret: unknown field",
        ),
        ({"events": ALL_EVENTS}, "callbackUrl: is required"),
        ({"callbackUrl": "ftp://h.test", "events": ALL_EVENTS}, "callbackUrl: must be an absolute"),
    ],
)
async def test_create_validation(api: Api, body, message):
    """Invalid webhook bodies are 400s naming the field."""
    reply = await api.post("/webhooks", json=body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(message)


async def test_failed_update_changes_nothing(sim: ArgilSimulator, api: Api):
    """A PUT with one bad field leaves the webhook untouched."""
    hook = (
        await api.post("/webhooks", json={"callbackUrl": "https://h.test/a", "events": ALL_EVENTS})
    ).json()
    reply = await api.put(
        f"/webhooks/{hook['id']}", json={"callbackUrl": "https://h.test/b", "events": []}
    )
    assert reply.status == 400
    assert sim.state.webhooks[hook["id"]].callback_url == "https://h.test/a"


async def test_video_events_reach_webhook_and_callback(
    sim: ArgilSimulator, api: Api, receiver: Receiver
):
    """DONE posts VIDEO_GENERATION_SUCCESS to the subscribed webhook and once to callbackUrl."""
    await api.post(
        "/webhooks",
        json={"callbackUrl": receiver.url + "/hook", "events": ["VIDEO_GENERATION_SUCCESS"]},
    )
    await api.post(
        "/webhooks",
        json={"callbackUrl": receiver.url + "/other", "events": ["AVATAR_TRAINING_FAILED"]},
    )
    video = await api.create_video(extras={"X_ID": "7"})
    await api.post(f"/videos/{video['id']}/render", json={"callbackUrl": receiver.url + "/once"})
    await sim.drain()
    assert sorted(path for path, _ in receiver.received) == ["/hook", "/once"]
    payload = receiver.received[0][1]
    assert payload["event"] == "VIDEO_GENERATION_SUCCESS"
    assert payload["data"]["videoId"] == video["id"]
    assert payload["data"]["videoName"] == "Demo"
    assert payload["data"]["extras"] == {"X_ID": "7"}
    assert payload["data"]["videoUrl"].endswith(".mp4")
    assert sorted((d.url.rsplit("/", 1)[1], d.status) for d in sim.deliveries) == [
        ("hook", 204),
        ("once", 500),
    ]
    hooks = (await api.get("/webhooks")).json()
    assert "lastTriggeredAt" in hooks[0]
    assert "lastTriggeredAt" not in hooks[1]


async def test_failed_video_event(sim: ArgilSimulator, api: Api, receiver: Receiver):
    """A FAILED render posts VIDEO_GENERATION_FAILED with a null videoUrl."""
    await api.post("/webhooks", json={"callbackUrl": receiver.url + "/hook", "events": ALL_EVENTS})
    video = await api.create_video(extras={"simOutcome": "FAILED"})
    await api.post(f"/videos/{video['id']}/render")
    await sim.drain()
    [(_, payload)] = receiver.received
    assert payload["event"] == "VIDEO_GENERATION_FAILED"
    assert payload["data"]["videoUrl"] is None


async def test_avatar_events(sim: ArgilSimulator, api: Api, receiver: Receiver):
    """Training success carries avatarId, voiceId, avatarName, extras; failure has no voiceId."""
    await api.post("/webhooks", json={"callbackUrl": receiver.url + "/hook", "events": ALL_EVENTS})
    image = {"type": "IMAGE", "datasetImage": {"url": "https://a.test/i.png"}}
    ok = (await api.post("/avatars", json={**image, "name": "ok"})).json()
    await api.post("/avatars", json={**image, "name": "bad", "extras": {"simOutcome": "REFUSED"}})
    await sim.drain()
    events = {payload["data"]["avatarName"]: payload for _, payload in receiver.received}
    assert events["ok"]["event"] == "AVATAR_TRAINING_SUCCESS"
    assert events["ok"]["data"]["avatarId"] == ok["id"]
    assert events["ok"]["data"]["voiceId"] == sim.state.avatars[ok["id"]].voice_id
    assert events["bad"]["event"] == "AVATAR_TRAINING_FAILED"
    assert set(events["bad"]["data"]) == {"avatarId", "avatarName", "extras"}


async def test_unreachable_receiver_is_recorded(sim: ArgilSimulator, api: Api):
    """A delivery that cannot connect is swallowed and recorded with its error."""
    await api.post(
        "/webhooks", json={"callbackUrl": "http://127.0.0.1:9/nothing", "events": ALL_EVENTS}
    )
    video = await api.create_video()
    await api.post(f"/videos/{video['id']}/render")
    await sim.drain()
    [delivery] = sim.deliveries
    assert delivery.status is None
    assert delivery.error


async def test_drain_outlasts_a_silent_receiver(sim: ArgilSimulator, api: Api):
    """With the default timeouts, drain() returns once a delivery to a silent receiver times out."""
    release = asyncio.Event()

    async def silent(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response()

    app = web.Application()
    app.router.add_post("/hook", silent)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
        await api.post("/webhooks", json={"callbackUrl": url, "events": ALL_EVENTS})
        video = await api.create_video()
        await api.post(f"/videos/{video['id']}/render")
        await sim.drain()
        [delivery] = sim.deliveries
        assert delivery.status is None
        assert "Timeout" in (delivery.error or "")
    finally:
        release.set()
        await runner.cleanup()

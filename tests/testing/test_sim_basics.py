"""Simulator plumbing: auth, error bodies, request ids, recording, stats, hooks, ways to run it."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sim_http import Api

from argil_async.testing import ArgilSimulator, RecordedRequest, SimulatorConfig

REPO = Path(__file__).resolve().parents[2]


async def test_missing_key_is_401(api: Api):
    """Without x-api-key every API route answers 401 with {code, message}."""
    reply = await api.get("/avatars", auth=False)
    assert reply.status == 401
    assert reply.json() == {"code": 401, "message": "x-api-key: header is required"}


async def test_wrong_key_is_401(api: Api):
    """A wrong key is refused, naming the header."""
    reply = await api.get("/voices", auth=False, headers={"x-api-key": "nope"})
    assert reply.status == 401
    assert "x-api-key" in reply.json()["message"]


async def test_authorization_apikey_header_is_accepted(sim_factory, http):
    """The `Authorization: ApiKey <key>` form from the asset docs also authenticates."""
    sim = await sim_factory(check_spec=False)
    reply = await Api(http, sim).get(
        "/assets", auth=False, headers={"Authorization": "ApiKey " + sim.api_key}
    )
    assert reply.status == 200


async def test_every_response_has_a_request_id(api: Api):
    """X-Request-Id is present on successes, errors and unknown routes, and differs per request."""
    replies = [
        await api.get("/avatars"),
        await api.get("/avatars", auth=False),
        await api.get("/nope"),
    ]
    ids = {reply.headers["X-Request-Id"] for reply in replies}
    assert len(ids) == 3


async def test_unknown_route_is_json_404(api: Api):
    """An unknown path gives a JSON 404 error object."""
    reply = await api.get("/does-not-exist")
    assert reply.status == 404
    assert reply.json()["code"] == 404


async def test_avatar_delete_is_405(api: Api):
    """Argil has no avatar delete: DELETE /avatars/{id} is a JSON 405 with an Allow header."""
    reply = await api.delete(f"/avatars/{await api.avatar_id()}")
    assert reply.status == 405
    assert reply.json()["code"] == 405
    assert "GET" in reply.headers["Allow"]


async def test_invalid_json_body_is_400(api: Api):
    """A body that is not JSON is a 400 naming the body."""
    reply = await api.post("/webhooks", data=b"{nope", headers={"Content-Type": "application/json"})
    assert reply.status == 400
    assert reply.json()["message"].startswith("body: invalid JSON")


async def test_stats_count_routes_by_template(sim: ArgilSimulator, api: Api):
    """stats counts every API request under "METHOD /template"."""
    avatar_id = await api.avatar_id()
    await api.get(f"/avatars/{avatar_id}")
    await api.get(f"/avatars/{avatar_id}")
    assert sim.stats.requests == 3
    assert sim.stats.by_route["GET /avatars"] == 1
    assert sim.stats.by_route["GET /avatars/{id}"] == 2


async def test_received_records_the_request(sim: ArgilSimulator, api: Api):
    """sim.received keeps method, path, route, params, query, lower-case headers and body."""
    await api.post(
        "/webhooks?x=1",
        json={"callbackUrl": "https://h.test/cb", "events": ["VIDEO_GENERATION_SUCCESS"]},
    )
    record = sim.received[-1]
    assert (record.method, record.path, record.route) == ("POST", "/v1/webhooks", "POST /webhooks")
    assert record.query_string == "x=1"
    assert record.headers["x-api-key"] == sim.api_key
    assert b"VIDEO_GENERATION_SUCCESS" in record.body


async def test_exchange_hook_sees_every_response(sim_factory, http):
    """on_exchange gets the record, status, headers and body bytes of each API response."""
    seen: list[tuple[RecordedRequest, int, bytes]] = []
    sim = await sim_factory(check_spec=False)
    sim.on_exchange = lambda record, status, headers, body: seen.append((record, status, body))
    api = Api(http, sim)
    await api.get("/voices")
    await api.get("/voices", auth=False)
    assert [(r.route, status) for r, status, _ in seen] == [
        ("GET /voices", 200),
        ("GET /voices", 401),
    ]
    assert seen[1][2].startswith(b'{"code":401')


async def test_latency_is_added(sim_factory, http):
    """config.latency delays every API request."""
    sim = await sim_factory(latency=0.05)
    loop = asyncio.get_running_loop()
    start = loop.time()
    await Api(http, sim).get("/voices")
    assert loop.time() - start >= 0.05


async def test_start_and_close_explicitly():
    """start()/close() work without a context manager; close twice is harmless."""
    sim = ArgilSimulator(SimulatorConfig(api_key="k"), port=0)
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    await sim.start()
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", sim.base_url)
    assert sim.api_key == "k"
    await sim.close()
    await sim.close()


def test_in_thread_serves_synchronous_code():
    """in_thread runs the simulator on its own loop; blocking clients can call it."""
    with ArgilSimulator.in_thread(api_key="sync-key") as sim:
        request = urllib.request.Request(
            sim.base_url + "/voices", headers={"x-api-key": "sync-key"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
        assert sim.stats.requests == 1


def test_cli_serves_until_terminated():
    """`python -m argil_async.testing` prints the URL and key first, then answers requests."""
    process = subprocess.Popen(
        [sys.executable, "-m", "argil_async.testing", "--port", "0", "--api-key", "cli-key"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"ARGIL_BASE_URL=(\S+) ARGIL_API_KEY=cli-key\n", line)
        assert match, line
        request = urllib.request.Request(match[1] + "/avatars", headers={"x-api-key": "cli-key"})
        with urllib.request.urlopen(request, timeout=5) as response:
            assert response.status == 200
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        process.stdout.close()


async def test_sim_fixture_feeds_the_spec_checker(api: Api, spec_checker):
    """Every exchange of the `sim` fixture goes through the OpenAPI checker."""
    await api.get("/subtitles")
    await api.get("/nope")
    assert spec_checker.checked == 2


async def test_close_cancels_timers_mid_render(http):
    """Closing while renders, trainings and uploads are in flight leaves no task behind."""
    sim = ArgilSimulator(render_audio_time=30, avatar_training_time=30, asset_processing_time=30)
    await sim.start()
    api = Api(http, sim)
    video = await api.create_video()
    await api.post(f"/videos/{video['id']}/render")
    image = {"type": "IMAGE", "name": "n", "datasetImage": {"url": "https://a.test/i.png"}}
    await api.post("/avatars", json=image)
    await api.post("/assets", json={"name": "a", "type": "IMAGE", "url": "https://a.test/i.png"})
    await sim.close()
    assert asyncio.all_tasks() == {asyncio.current_task()}

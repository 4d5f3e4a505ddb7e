"""What happened, read back: sim.counters(), GET /_sim/counters, and the documented flags."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from aiohttp import web
from sim_http import Api

from argil_async import AsyncArgil, Moment
from argil_async.batch import JOB_KEY_EXTRA
from argil_async.testing import ArgilSimulator, SimulatorCounters
from argil_async.testing.__main__ import build_parser

REPO = Path(__file__).resolve().parents[2]


async def _moment(client: AsyncArgil) -> Moment:
    avatar = (await client.avatars.list())[0]
    return Moment(avatar_id=avatar.id, transcript="Hello there")


async def test_keyed_create_and_render_are_counted_once(sim: ArgilSimulator, client: AsyncArgil):
    """An SDK create with an idempotency key and its render show as one video rendered once."""
    video = await client.videos.create(
        name="Welcome", moments=[await _moment(client)], idempotency_key="order-7"
    )
    await client.videos.render(video.id)
    await client.videos.wait_until_done(video.id, poll_interval=0.01)
    counters = sim.counters()
    assert counters.videos_created == 1
    assert counters.renders == 1
    assert counters.videos[video.id].renders == 1
    assert counters.videos[video.id].status == "DONE"
    assert counters.videos[video.id].idempotency_key == "order-7"
    tally = counters.by_idempotency_key["order-7"]
    assert (tally.videos, tally.live, tally.renders) == ([video.id], [video.id], 1)
    assert counters.by_job_key == {}


async def test_refused_render_and_delete_are_kept(sim: ArgilSimulator, api: Api):
    """A second render of a started video counts as refused; a deleted video stays, marked."""
    video = await api.create_video(extras={JOB_KEY_EXTRA: "job-1"})
    assert (await api.post(f"/videos/{video['id']}/render")).status == 200
    assert (await api.post(f"/videos/{video['id']}/render")).status == 400
    await sim.drain()
    assert (await api.delete(f"/videos/{video['id']}")).status == 200
    counters = sim.counters()
    assert (counters.renders, counters.renders_refused, counters.videos_deleted) == (1, 1, 1)
    assert counters.videos[video["id"]].deleted
    tally = counters.by_job_key["job-1"]
    assert (tally.videos, tally.live, tally.renders) == ([video["id"]], [], 1)


async def test_two_videos_under_one_key_show_as_two(sim: ArgilSimulator, api: Api):
    """Two creates carrying the same job key are both listed: the counters do not hide doubles."""
    first = await api.create_video(extras={JOB_KEY_EXTRA: "dup"})
    second = await api.create_video(extras={JOB_KEY_EXTRA: "dup"})
    assert sim.counters().by_job_key["dup"].videos == [first["id"], second["id"]]


async def test_deliveries_and_their_answers(sim: ArgilSimulator, api: Api):
    """Each webhook POST is listed with its event, the video id and the receiver's status."""
    statuses = iter([500, 204])

    async def answer(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=next(statuses))

    app = web.Application()
    app.router.add_post("/hook", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        events = ["VIDEO_GENERATION_SUCCESS"]
        await api.post("/webhooks", json={"callbackUrl": url, "events": events})
        for _ in range(2):
            video = await api.create_video()
            await api.post(f"/videos/{video['id']}/render")
            await sim.drain()
    finally:
        await runner.cleanup()
    deliveries = sim.counters().deliveries
    assert [(d.event, d.url, d.status, d.error) for d in deliveries] == [
        ("VIDEO_GENERATION_SUCCESS", url, 500, None),
        ("VIDEO_GENERATION_SUCCESS", url, 204, None),
    ]
    assert deliveries[1].resource_id == video["id"]


async def test_counters_over_http(sim: ArgilSimulator, api: Api):
    """GET /_sim/counters answers the same snapshot, takes the key, and is not an API request."""
    video = await api.create_video(extras={JOB_KEY_EXTRA: "job-9"})
    await api.post(f"/videos/{video['id']}/render")
    await sim.drain()
    requests_before = sim.stats.requests
    fetched = await asyncio.to_thread(SimulatorCounters.fetch, sim.base_url, sim.api_key)
    assert fetched == sim.counters()
    assert fetched.by_job_key["job-9"].renders == 1
    assert sim.stats.requests == requests_before
    origin = sim.base_url.removesuffix("/v1")
    refused = await api.get(origin + "/_sim/counters", auth=False)
    assert refused.status == 401
    with pytest.raises(urllib.error.HTTPError) as caught:
        await asyncio.to_thread(SimulatorCounters.fetch, sim.base_url, "wrong")
    assert caught.value.code == 401


def test_counters_from_another_process():
    """A simulator served by `python -m argil_async.testing` reports its renders to this one."""
    process = subprocess.Popen(
        [sys.executable, "-m", "argil_async.testing", "--api-key", "k"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        match = re.fullmatch(r"ARGIL_BASE_URL=(\S+) ARGIL_API_KEY=k\n", process.stdout.readline())
        assert match
        base_url = match[1]

        def call(method: str, path: str, body: object = None) -> object:
            data = json.dumps(body).encode() if body is not None else None
            headers = {"x-api-key": "k", "Content-Type": "application/json"}
            request = urllib.request.Request(base_url + path, data, headers, method=method)
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())

        avatar = call("GET", "/avatars")[0]["id"]  # type: ignore[index]
        moments = [{"avatarId": avatar, "transcript": "Hi"}]
        body = {"name": "x", "moments": moments, "extras": {JOB_KEY_EXTRA: "j"}}
        video = call("POST", "/videos", body)
        call("POST", f"/videos/{video['id']}/render")  # type: ignore[index]
        counters = SimulatorCounters.fetch(base_url, "k")
        assert counters.by_job_key["j"].renders == 1
        assert counters.videos_created == 1
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        process.stdout.close()


def test_json_round_trip(sim: ArgilSimulator):
    """to_json/from_json give back an equal snapshot (what the endpoint and fetch exchange)."""
    counters = sim.counters()
    assert SimulatorCounters.from_json(counters.to_json()) == counters


def test_every_flag_is_explained_in_help_and_reference():
    """--help gives each flag a meaning (not just its type), and the reference lists them all."""
    parser = build_parser()
    reference = (REPO / "docs/reference/testing.md").read_text()
    flags = [a for a in parser._actions if a.option_strings and a.dest != "help"]
    assert len(flags) > 20
    for action in flags:
        assert action.help
        assert action.help not in ("bool", "int", "str")
        assert len(action.help.split()) >= 4, action.help
        assert f"`{action.option_strings[0]}`" in reference, action.option_strings[0]
    epilog = parser.epilog or ""
    assert "simOutcome" in epilog
    assert "/_sim/counters" in epilog
    assert "simOutcome" in reference
    assert "/_sim/counters" in reference

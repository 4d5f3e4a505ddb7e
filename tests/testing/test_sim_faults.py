"""Injected faults: 429 with Retry-After, 500/503, dropped connections, cut downloads, scoping."""

from __future__ import annotations

import aiohttp
import pytest
from sim_http import Api

from argil_async.testing import ArgilSimulator


async def statuses(api: Api, count: int, path: str = "/voices") -> list[int]:
    """Statuses of `count` sequential GETs."""
    return [(await api.get(path)).status for _ in range(count)]


async def test_rate_limit_every_third(sim_factory, http):
    """Every 3rd request is 429 with the configured Retry-After and an Error body."""
    sim = await sim_factory(rate_limit_every=3, retry_after=2.5)
    api = Api(http, sim)
    assert await statuses(api, 5) == [200, 200, 429, 200, 200]
    reply = (await api.get("/voices"), await api.get("/voices"))[0]
    assert reply.headers["Retry-After"] == "2.5"
    assert reply.json() == {"code": 429, "message": "rate limit: too many requests (simulated)"}
    assert sim.stats.injected_429 == 2


async def test_server_errors_alternate_500_and_503(sim_factory, http):
    """server_error_every=1 answers 500, 503, 500... and counts them."""
    sim = await sim_factory(server_error_every=1)
    assert await statuses(Api(http, sim), 3) == [500, 503, 500]
    assert sim.stats.injected_5xx == 3


async def test_faults_can_change_mid_test(sim: ArgilSimulator, api: Api):
    """Setting a fault restarts the count: the Nth request after the change fails."""
    assert await statuses(api, 3) == [200, 200, 200]
    sim.config.server_error_every = 2
    assert await statuses(api, 4) == [200, 500, 200, 503]
    sim.config.server_error_every = None
    assert await statuses(api, 2) == [200, 200]


async def test_drop_processes_the_request_then_disconnects(sim_factory, http):
    """A dropped POST /videos gets no response, yet the video exists."""
    sim = await sim_factory(drop_every=1, fault_methods=frozenset({"POST"}))
    api = Api(http, sim)
    avatar_id = await api.avatar_id()
    body = {"name": "dropped", "moments": [{"avatarId": avatar_id, "transcript": "hi"}]}
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await api.post("/videos", json=body)
    assert [v.name for v in sim.state.videos.values()] == ["dropped"]
    assert sim.stats.injected_drops == 1
    assert sim.received[-1].route == "POST /videos"


async def test_faults_scoped_by_method_and_path(sim_factory, http):
    """fault_methods and fault_path_prefix limit which requests count and fail."""
    sim = await sim_factory(
        rate_limit_every=1, fault_methods=frozenset({"GET"}), fault_path_prefix="/videos"
    )
    api = Api(http, sim)
    assert (await api.get("/voices")).status == 200
    assert (await api.get("/videos")).status == 429
    assert (await api.post("/videos", json={})).status == 400
    assert sim.stats.injected_429 == 1


async def test_faults_spare_unauthenticated_requests_and_files(sim_factory, http):
    """401s and file downloads are not counted as fault candidates."""
    sim = await sim_factory(server_error_every=1)
    api = Api(http, sim)
    assert (await api.get("/voices", auth=False)).status == 401
    voice = next(iter(sim.state.voices))
    assert (
        await api.get(f"{sim.base_url[:-3]}/files/voices/{voice}.mp3", auth=False)
    ).status == 200
    assert sim.stats.injected_5xx == 0


async def test_download_cut_short(sim_factory, http):
    """drop_download_after breaks a file download after that many bytes."""
    sim = await sim_factory(drop_download_after=1000, video_file_size=5000)
    url = f"{sim.base_url[:-3]}/files/thumbnails/x.jpg"
    async with http.get(url) as response:
        assert response.headers["Content-Length"] == "5000"
        with pytest.raises(aiohttp.ClientPayloadError):
            await response.read()
    sim.config.drop_download_after = None
    async with http.get(url) as response:
        assert len(await response.read()) == 5000


async def test_unknown_files_are_404(sim: ArgilSimulator, api: Api):
    """Files of unknown or unfinished videos and unknown kinds are JSON 404s."""
    video = await api.create_video()
    origin = sim.base_url[:-3]
    for path in (f"/files/videos/{video['id']}.mp4", "/files/videos/nope.mp4", "/files/secrets/x"):
        reply = await api.get(origin + path, auth=False)
        assert (reply.status, reply.json()["code"]) == (404, 404)
    assert (await api.get(video["previewUrl"], auth=False)).status == 200

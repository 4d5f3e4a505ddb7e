"""Class 8: the simulator refuses URLs the API would refuse (400), whoever sends them."""

from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from support.client_fixtures import client_for
from wire_server import hostile_server

from argil_async import Moment

BAD_URLS = [
    "https://example.com/hook\n",
    "https://example.com/a\tb",
    "https://exa mple.com/x",
    "https://example.com/x\x00y",
    "https://example.com/\x7f",
    "https://example.com/\u0085next-line",
    "https://example.com/<script>",
    "https://exämple.com/hook",
    "https://例え.jp/hook",
    "https://example.com:99999/hook",
    "https://example.com:http/hook",
]
GOOD_URLS = [
    "https://example.com/hook?token=abc&x=%20",
    "https://xn--exmple-cua.com/hook",
    "https://example.com/caf%C3%A9",
    "https://example.com:8443/p",
    "https://[::1]:8443/p",
]


async def _post(sim, path: str, body: dict) -> tuple[int, dict]:
    """POST a raw JSON body to the simulator's API, bypassing the SDK's own checks."""
    async with (
        aiohttp.ClientSession() as http,
        http.post(sim.base_url + path, json=body, headers={"x-api-key": sim.api_key}) as resp,
    ):
        return resp.status, await resp.json()


@pytest.mark.parametrize("url", BAD_URLS, ids=repr)
async def test_webhook_callback_url_with_bad_characters_or_host_is_a_400(sim_factory, url):
    """POST /webhooks with a control character, space, <>, non-ASCII host or bad port: 400."""
    sim = await sim_factory(check_spec=False)
    status, body = await _post(
        sim, "/webhooks", {"callbackUrl": url, "events": ["VIDEO_GENERATION_SUCCESS"]}
    )
    assert status == 400
    assert body["message"].startswith("callbackUrl: ")
    assert sim.state.webhooks == {}


@pytest.mark.parametrize("url", BAD_URLS, ids=repr)
async def test_asset_upload_url_with_bad_characters_or_host_is_a_400(sim_factory, url):
    """POST /assets with the same URLs: 400 naming `url`, no asset created."""
    sim = await sim_factory(check_spec=False)
    status, body = await _post(sim, "/assets", {"name": "a", "type": "IMAGE", "url": url})
    assert status == 400
    assert body["message"].startswith("url: ")


@pytest.mark.parametrize("url", GOOD_URLS, ids=repr)
async def test_well_formed_urls_are_still_accepted(sim_factory, url):
    """Percent-encoded paths, punycode hosts, ports and IPv6 literals still pass."""
    sim = await sim_factory(check_spec=False)
    status, _ = await _post(
        sim, "/webhooks", {"callbackUrl": url, "events": ["VIDEO_GENERATION_SUCCESS"]}
    )
    assert status == 201


async def test_a_loopback_receiver_cannot_redirect_a_delivery_elsewhere(sim_factory):
    """A delivery answered with a redirect is recorded as such, never followed to another host."""
    followed: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        followed.append(request.path)
        return web.Response(status=204)

    async with hostile_server(elsewhere) as target:

        async def redirecting(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(target + "/stolen")

        async with hostile_server(redirecting) as hook_base:
            sim = await sim_factory()
            async with client_for(sim) as client:
                video = await client.videos.create(
                    name="hook",
                    moments=[Moment(avatar_id=next(iter(sim.state.avatars)), transcript="Hi")],
                )
                await client.videos.render(video.id, callback_url=hook_base + "/hook")
                await sim.wait_until(lambda: len(sim.deliveries) == 1)
    assert sim.deliveries[0].status == 307
    assert followed == []

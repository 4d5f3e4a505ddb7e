"""Assets: upload lifecycle, the 5-processing limit, duplicates, header pagination, deletes."""

from __future__ import annotations

import asyncio

import pytest
from sim_http import Api

from argil_async.testing import ArgilSimulator


def upload(n: int, **extra: str) -> dict[str, str]:
    """An upload body with a distinct URL per `n`."""
    return {"name": f"clip {n}", "type": "IMAGE", "url": f"https://cdn.test/img-{n}.png", **extra}


async def test_upload_processes_then_is_ready(sim: ArgilSimulator, api: Api):
    """201 PROCESSING with null URLs, then READY with file and thumbnail URLs that download."""
    reply = await api.post("/assets", json=upload(1))
    assert reply.status == 201
    created = reply.json()
    assert (created["status"], created["fileUrl"], created["thumbnailUrl"]) == (
        "PROCESSING",
        None,
        None,
    )
    await sim.drain()
    asset = (await api.get(f"/assets/{created['id']}")).json()
    assert asset["status"] == "READY"
    assert asset["fileUrl"].startswith(sim.base_url.removesuffix("/v1") + "/files/assets/")
    download = await api.get(asset["fileUrl"], auth=False)
    assert download.status == 200
    assert len(download.body) == sim.config.video_file_size
    assert (await api.get(asset["thumbnailUrl"], auth=False)).status == 200


async def test_sim_outcome_marker_fails_the_asset(sim: ArgilSimulator, api: Api):
    """A url containing sim_outcome=FAILED ends FAILED, and its file is not served."""
    created = (
        await api.post("/assets", json=upload(2, url="https://cdn.test/x.png?sim_outcome=FAILED"))
    ).json()
    await sim.drain()
    assert sim.state.assets[created["id"]].status == "FAILED"
    assert (
        await api.get(f"{sim.base_url[:-3]}/files/assets/{created['id']}", auth=False)
    ).status == 404


async def test_sixth_concurrent_upload_is_429(sim_factory, http):
    """With 5 PROCESSING the 6th upload is 429 with Retry-After; the slot frees afterwards."""
    sim = await sim_factory(asset_processing_time=1.0)  # all 6 must arrive while 5 still process
    api = Api(http, sim)
    replies = await asyncio.gather(*(api.post("/assets", json=upload(n)) for n in range(6)))
    assert sorted(r.status for r in replies) == [201] * 5 + [429]
    refused = next(r for r in replies if r.status == 429)
    assert refused.headers["Retry-After"] == "1"
    assert refused.json()["code"] == 429
    assert (sim.stats.max_processing_assets, sim.stats.asset_rate_limited) == (5, 1)
    await sim.drain()
    assert (await api.post("/assets", json=upload(99))).status == 201


async def test_limit_spares_duplicates_and_delete_frees_a_slot(sim_factory, http):
    """At the limit a duplicate is still 200, and deleting a PROCESSING asset frees its slot."""
    sim = await sim_factory(asset_processing_time=30)
    api = Api(http, sim)
    created = [(await api.post("/assets", json=upload(n))).json() for n in range(5)]
    assert (await api.post("/assets", json=upload(0))).status == 200
    assert (await api.post("/assets", json=upload(5))).status == 429
    assert (await api.delete(f"/assets/{created[0]['id']}")).status == 200
    assert (await api.post("/assets", json=upload(5))).status == 201
    assert sim.state.processing_assets() == 5


async def test_duplicate_url_returns_existing_with_200(sim_factory, http):
    """The same url and type again is 200 with the existing asset, even while PROCESSING."""
    sim = await sim_factory(asset_processing_time=30)  # still PROCESSING however slow the host
    api = Api(http, sim)
    first = (await api.post("/assets", json=upload(3))).json()
    again = await api.post("/assets", json=upload(3, name="other name"))
    assert again.status == 200
    assert again.json() == first
    assert len([a for a in sim.state.assets.values() if a.source_url == upload(3)["url"]]) == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"name": "a", "type": "AUDIO", "url": "https://x.test/a.mp3"},
            "type: AUDIO uploads are not supported",
        ),
        ({"name": "a", "type": "IMAGE", "url": "not a url"}, "url: must be an absolute"),
        (
            {"name": "", "type": "IMAGE", "url": "https://x.test/a.png"},
            "name: must be a non-empty string",
        ),
        (
            {"name": "a" * 257, "type": "IMAGE", "url": "https://x.test/a.png"},
            "name: must be at most 256",
        ),
        (
            {"name": "a", "type": "VIDEO", "url": "https://x.test/a.png"},
            "url: unsupported VIDEO format '.png'",
        ),
        ({"name": "a", "type": "IMAGE", "url": "https://x.test/a.png", "x": 1}, "x: unknown field"),
        ({"type": "IMAGE", "url": "https://x.test/a.png"}, "name: is required"),
    ],
)
async def test_upload_validation(api: Api, body, message):
    """Bad upload bodies are 400s whose message names the field and the rule."""
    reply = await api.post("/assets", json=body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(message)


async def test_list_defaults_to_ready_and_filters_by_type(sim_factory, http):
    """The default listing hides PROCESSING uploads; status= and repeated type= filter."""
    sim = await sim_factory(asset_processing_time=30)  # still PROCESSING however slow the host
    api = Api(http, sim)
    await api.post("/assets", json=upload(4))
    default = (await api.get("/assets")).json()
    assert {a["type"] for a in default} == {"AUDIO"}
    processing = (await api.get("/assets", params={"status": "PROCESSING"})).json()
    assert [a["name"] for a in processing] == ["clip 4"]
    sim.state.add_asset(name="v", type="VIDEO")
    both = await api.get("/assets?type=IMAGE&type=VIDEO")
    assert [a["type"] for a in both.json()] == ["VIDEO"]


async def test_type_filter_tolerates_brackets_and_commas(sim_factory, http):
    """`type[]=` and comma-separated values are accepted too."""
    sim = await sim_factory(check_spec=False)
    sim.state.seed_assets(2, type="VIDEO")
    api = Api(http, sim)
    assert len((await api.get("/assets?type[]=VIDEO")).json()) == 2
    assert len((await api.get("/assets?type=IMAGE,AUDIO")).json()) == 3


async def test_header_pagination_over_many_pages(sim: ArgilSimulator, api: Api):
    """250 seeded assets page as 100/100/50 with X-* headers; past the end is [] with headers."""
    sim.state.seed_assets(250, type="VIDEO")
    seen = []
    for page in (1, 2, 3):
        reply = await api.get("/assets", params={"type": "VIDEO", "page": page, "pageSize": 100})
        assert reply.headers["X-Total-Count"] == "250"
        assert (reply.headers["X-Page"], reply.headers["X-Page-Size"]) == (str(page), "100")
        assert reply.headers["X-Total-Pages"] == "3"
        seen += [a["id"] for a in reply.json()]
    assert len(set(seen)) == 250
    past = await api.get("/assets", params={"type": "VIDEO", "page": 9, "pageSize": 100})
    assert (past.json(), past.headers["X-Total-Pages"]) == ([], "3")


async def test_default_page_size_is_20(sim: ArgilSimulator, api: Api):
    """Without pageSize a page holds 20 assets."""
    sim.state.seed_assets(25)
    reply = await api.get("/assets", params={"type": "IMAGE"})
    assert (len(reply.json()), reply.headers["X-Page-Size"], reply.headers["X-Total-Pages"]) == (
        20,
        "20",
        "2",
    )


@pytest.mark.parametrize(
    "query", ["pageSize=0", "pageSize=101", "page=0", "page=x", "status=DONE", "type=GIF"]
)
async def test_bad_list_parameters_are_400(api: Api, query):
    """Out-of-range paging and unknown enum values are 400s."""
    reply = await api.get("/assets?" + query)
    assert reply.status == 400
    assert reply.json()["message"].split(":")[0] == query.split("=")[0]


async def test_delete_is_soft_then_404(sim: ArgilSimulator, api: Api):
    """DELETE answers {"message":"Asset deleted"}; afterwards get and delete are 404."""
    asset = sim.state.add_asset(name="x", type="IMAGE")
    reply = await api.delete(f"/assets/{asset.id}")
    assert (reply.status, reply.json()) == (200, {"message": "Asset deleted"})
    assert asset.id in sim.state.deleted_assets
    assert (await api.get(f"/assets/{asset.id}")).status == 404
    assert (await api.delete(f"/assets/{asset.id}")).status == 404


async def test_system_music_cannot_be_deleted(sim: ArgilSimulator, api: Api):
    """The seeded AUDIO tracks are READY with a fileUrl and refuse deletion with 404."""
    music = [a for a in sim.state.assets.values() if a.type == "AUDIO"]
    assert len(music) == 3
    assert all(a.status == "READY" and a.file_path for a in music)
    assert (await api.delete(f"/assets/{music[0].id}")).status == 404
    assert music[0].id in sim.state.assets

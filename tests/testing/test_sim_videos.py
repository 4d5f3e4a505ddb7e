"""Videos and subtitles: strict creation, the `videos` envelope, rendering, outcomes, export."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sim_http import Api

from argil_async.testing import ArgilSimulator


async def video_body(sim: ArgilSimulator, **fields: Any) -> dict[str, Any]:
    """A valid body using the first stock avatar, overridden by `fields`."""
    avatar = next(iter(sim.state.avatars.values()))
    return {"name": "Demo", "moments": [{"avatarId": avatar.id, "transcript": "Hello"}], **fields}


async def test_create_with_every_option(sim: ArgilSimulator, api: Api):
    """A body using every documented field is 201 IDLE, echoing moments with the avatar's voice."""
    avatar = next(iter(sim.state.avatars.values()))
    broll = sim.state.add_asset(name="b", type="IMAGE")
    music = next(a for a in sim.state.assets.values() if a.type == "AUDIO")
    style = next(iter(sim.state.subtitle_styles))
    moment = {
        "avatarId": avatar.id,
        "transcript": "Hello",
        "gestureSlug": avatar.gestures[0]["slug"],
        "zoom": {"level": 1.5},
        "broll": {"type": "UPLOAD", "assetId": broll.id},
    }
    body = {
        "name": "Full",
        "moments": [moment, {"avatarId": avatar.id, "audioUrl": "https://cdn.test/a.mp3"}],
        "subtitles": {"enable": True, "styleId": style, "position": "Bottom", "size": "Large"},
        "aspectRatio": "9:16",
        "autoBrolls": {
            "enable": True,
            "source": "GENERATION",
            "intensity": "LOW",
            "layout": "FULLSCREEN",
        },
        "backgroundMusic": {"assetId": music.id, "volume": 0.14},
        "extras": {"X_ID": "42"},
        "model": "ARGIL_ATOM",
    }
    reply = await api.post("/videos", json=body)
    assert reply.status == 201, reply.body
    video = reply.json()
    assert (video["status"], video["duration"], video["aspectRatio"]) == ("IDLE", None, "9:16")
    assert video["moments"][0]["voiceId"] == avatar.voice_id
    assert "videoUrl" not in video
    assert video["previewUrl"]
    assert sim.state.videos_with_extras(X_ID="42")[0].id == video["id"]


async def test_aspect_ratio_defaults_from_the_avatar(sim: ArgilSimulator, api: Api):
    """Without aspectRatio a portrait avatar gives 9:16."""
    portrait = next(a for a in sim.state.avatars.values() if a.orientation == "ASPECT_RATIO_9_16")
    body = {"name": "p", "moments": [{"avatarId": portrait.id, "transcript": "x"}]}
    assert (await api.post("/videos", json=body)).json()["aspectRatio"] == "9:16"


BAD_MOMENTS = [
    ({"transcript": "x" * 501}, "moments[0].transcript: must be at most 500 characters"),
    ({"audioUrl": "https://cdn.test/a.mp3"}, "moments[0]: exactly one of transcript or audioUrl"),
    ({"transcript": None, "zoom": {"level": 3}}, "moments[0]: exactly one"),
    ({"zoom": {"level": 3}}, "moments[0].zoom.level: must be between 1 and 2"),
    ({"zoom": {"level": 1, "x": 1}}, "moments[0].zoom.x: unknown field"),
    ({"gestureSlug": "moonwalk"}, "moments[0].gestureSlug: not a gesture"),
    ({"avatarId": "nope"}, "moments[0].avatarId: avatar nope not found"),
    ({"voiceId": "nope"}, "moments[0].voiceId: voice nope not found"),
    (
        {"broll": {"type": "UPLOAD", "assetId": "nope"}},
        "moments[0].broll.assetId: asset nope not found",
    ),
    ({"layout": "SIDEWAYS"}, "moments[0].layout: must be one of"),
    ({"colour": "red"}, "moments[0].colour: unknown field"),
]


@pytest.mark.parametrize(("change", "message"), BAD_MOMENTS)
async def test_moment_validation(sim: ArgilSimulator, api: Api, change, message):
    """Each broken moment rule is a 400 naming the field path and the rule."""
    body = await video_body(sim)
    moment = {**body["moments"][0], **change}
    body["moments"] = [{k: v for k, v in moment.items() if v is not None}]
    reply = await api.post("/videos", json=body)
    assert reply.status == 400
    assert reply.json()["message"].startswith(message)


BAD_BODIES = [
    ({"moments": []}, "moments: must be a non-empty array"),
    ({"name": None}, "name: is required"),
    ({"type": "articleToVideo"}, "type: only 'moments' is supported"),
    ({"aspectRatio": "4:3"}, "aspectRatio: must be one of"),
    ({"model": "GPT"}, "model: must be one of"),
    ({"subtitles": {"enable": True, "position": "Left"}}, "subtitles.position: must be one of"),
    ({"subtitles": {"styleId": "x"}}, "subtitles.enable: is required"),
    ({"subtitles": {"enable": True, "styleId": "nope"}}, "subtitles.styleId: subtitle style nope"),
    ({"autoBrolls": {"enable": True, "source": "GENERATION"}}, "autoBrolls.intensity: is required"),
    ({"autoBrolls": {"enable": True, "source": "TV", "intensity": "LOW"}}, "autoBrolls.source"),
    ({"backgroundMusic": {"volume": 0.5}}, "backgroundMusic.assetId: is required"),
    ({"extras": {"a": 1}}, "extras.a: must be a string"),
    ({"extras": {str(i): "v" for i in range(11)}}, "extras: at most 10 keys allowed"),
]


@pytest.mark.parametrize(("change", "message"), BAD_BODIES)
async def test_body_validation(sim: ArgilSimulator, api: Api, change, message):
    """Top-level rule violations are 400s naming the field."""
    body = {k: v for k, v in {**(await video_body(sim)), **change}.items() if v is not None}
    reply = await api.post("/videos", json=body)
    assert (reply.status, reply.json()["code"]) == (400, 400)
    assert reply.json()["message"].startswith(message)


async def test_music_must_be_audio_and_broll_ready(sim: ArgilSimulator, api: Api):
    """backgroundMusic needs an AUDIO asset and volume 0..1; an UPLOAD b-roll must be READY."""
    image = sim.state.add_asset(name="i", type="IMAGE")
    processing = sim.state.add_asset(name="p", type="VIDEO", status="PROCESSING")
    music = next(a for a in sim.state.assets.values() if a.type == "AUDIO")
    cases = [
        ({"backgroundMusic": {"assetId": image.id}}, "must be AUDIO"),
        (
            {"backgroundMusic": {"assetId": music.id, "volume": 2}},
            "volume: must be between 0 and 1",
        ),
    ]
    for change, message in cases:
        reply = await api.post("/videos", json=await video_body(sim, **change))
        assert message in reply.json()["message"]
    body = await video_body(sim)
    body["moments"][0]["broll"] = {"type": "UPLOAD", "assetId": processing.id}
    assert "must be READY" in (await api.post("/videos", json=body)).json()["message"]


async def test_training_avatar_cannot_be_used(sim_factory, http):
    """An avatar that is still TRAINING is refused."""
    api = Api(http, await sim_factory(avatar_training_time=30))  # TRAINING however slow the host
    created = (
        await api.post(
            "/avatars",
            json={"type": "IMAGE", "name": "n", "datasetImage": {"url": "https://a.test/i.png"}},
        )
    ).json()
    body = {"name": "x", "moments": [{"avatarId": created["id"], "transcript": "hi"}]}
    assert "is TRAINING, must be IDLE" in (await api.post("/videos", json=body)).json()["message"]


async def test_tolerated_variants(sim_factory, http):
    """type "moments", Centered, n8n layouts and (relaxed) transcript+audioUrl are accepted."""
    sim = await sim_factory(check_spec=False, strict_moments=False)
    api = Api(http, sim)
    body = await video_body(
        sim,
        type="moments",
        subtitles={"enable": True, "position": "Centered"},
        autoBrolls={"enable": True, "source": "AVATAR_ACTION", "layout": "SPLIT_LEFT"},
    )
    body["moments"][0].update(layout="NORMAL", audioUrl="https://cdn.test/a.mp3")
    reply = await api.post("/videos", json=body)
    assert reply.status == 201, reply.body
    assert reply.json()["subtitles"]["position"] == "Middle"


async def test_render_runs_to_done_with_urls(sim_factory, http):
    """Render: 200 GENERATING_AUDIO, then GENERATING_VIDEO with duration, then DONE with URLs."""
    sim = await sim_factory(render_video_time=0.5)  # a window wide enough to observe
    api = Api(http, sim)
    video = await api.create_video(subtitles={"enable": True})
    reply = await api.post(f"/videos/{video['id']}/render")
    assert (reply.status, reply.json()["status"]) == (200, "GENERATING_AUDIO")
    record = sim.state.videos[video["id"]]
    await sim.wait_until(lambda: record.status == "GENERATING_VIDEO")
    assert record.duration is not None
    await sim.drain()
    done = (await api.get(f"/videos/{video['id']}")).json()
    assert done["status"] == "DONE"
    assert done["videoUrl"].endswith(f"/files/videos/{video['id']}.mp4")
    assert done["videoUrlSubtitled"]
    assert done["moments"][0]["videoUrl"]
    download = await api.get(done["videoUrl"], auth=False)
    assert (download.status, download.headers["Content-Type"]) == (200, "video/mp4")
    assert download.body == (await api.get(done["videoUrl"], auth=False)).body
    assert int(download.headers["Content-Length"]) == sim.config.video_file_size


async def test_render_twice_is_400_and_unknown_is_404(sim: ArgilSimulator, api: Api):
    """Only IDLE videos render; an unknown id is 404."""
    video = await api.create_video()
    await api.post(f"/videos/{video['id']}/render", json={})
    again = await api.post(f"/videos/{video['id']}/render")
    assert again.status == 400
    assert "only IDLE" in again.json()["message"]
    assert (await api.post("/videos/nope/render")).status == 404


async def test_render_callback_must_be_https_except_loopback(sim_factory, http):
    """callbackUrl is https, or http to loopback only while allowed."""
    sim = await sim_factory(allow_loopback_http_callbacks=False)
    api = Api(http, sim)
    video = await api.create_video()
    for url in ("http://example.com/cb", "http://127.0.0.1:9/cb"):
        reply = await api.post(f"/videos/{video['id']}/render", json={"callbackUrl": url})
        assert reply.json()["message"].startswith("callbackUrl: must be an https URL")
    sim.config.allow_loopback_http_callbacks = True
    reply = await api.post(
        f"/videos/{video['id']}/render", json={"callbackUrl": "http://localhost:9/cb"}
    )
    assert reply.status == 200


@pytest.mark.parametrize("outcome", ["FAILED", "CONTENT_MODERATED"])
async def test_video_outcome_markers(sim: ArgilSimulator, api: Api, outcome):
    """extras.simOutcome makes the render end in that status, without a videoUrl."""
    video = await api.create_video(extras={"simOutcome": outcome})
    await api.post(f"/videos/{video['id']}/render")
    await sim.drain()
    final = (await api.get(f"/videos/{video['id']}")).json()
    assert final["status"] == outcome
    assert "videoUrl" not in final


async def test_video_outcome_hook(sim_factory, http):
    """config.video_outcome receives the video JSON and picks the final status."""
    seen = []

    def outcome(video: dict[str, Any]) -> str:
        seen.append(video["name"])
        return "FAILED" if video["name"] == "bad" else "DONE"

    sim = await sim_factory(video_outcome=outcome)
    api = Api(http, sim)
    for name in ("good", "bad"):
        video = await api.create_video(name=name)
        await api.post(f"/videos/{video['id']}/render")
    await sim.drain()
    assert sorted(v.status for v in sim.state.videos.values()) == ["DONE", "FAILED"]
    assert sorted(seen) == ["bad", "good"]


async def test_delete_video(sim: ArgilSimulator, api: Api):
    """DELETE answers {"message":"Video deleted"}; then 404."""
    video = await api.create_video()
    reply = await api.delete(f"/videos/{video['id']}")
    assert (reply.status, reply.json()) == (200, {"message": "Video deleted"})
    assert (await api.get(f"/videos/{video['id']}")).status == 404
    assert (await api.delete(f"/videos/{video['id']}")).status == 404


async def test_list_envelope_newest_first_over_pages(sim: ArgilSimulator, api: Api):
    """The `videos` envelope pages by `limit` (default 10), newest first; past the end is empty."""
    for i in range(23):
        await api.create_video(name=f"v{i:02d}")
    first = (await api.get("/videos")).json()
    assert {k: first[k] for k in ("totalItems", "totalPages", "currentPage", "itemsPerPage")} == {
        "totalItems": 23, "totalPages": 3, "currentPage": 1, "itemsPerPage": 10,
    }  # fmt: skip
    assert first["videos"][0]["name"] == "v22"
    names = []
    for page in (1, 2, 3):
        names += [
            v["name"] for v in (await api.get("/videos", params={"page": page})).json()["videos"]
        ]
    assert names == [f"v{i:02d}" for i in reversed(range(23))]
    past = (await api.get("/videos", params={"page": 4, "limit": 10})).json()
    assert (past["videos"], past["totalPages"], past["currentPage"]) == ([], 3, 4)


async def test_list_filters(sim: ArgilSimulator, api: Api):
    """nameSearchQuery (case-insensitive), avatarId, voiceId and extrasFilter narrow the list."""
    avatars = list(sim.state.avatars.values())
    await api.create_video(name="Summer Promo", extras={"X_ID": "1"})
    other = {"avatarId": avatars[1].id, "transcript": "x"}
    await api.create_video(name="Winter", moments=[other], extras={"X_ID": "2"})

    async def names(**params: str) -> list[str]:
        return [v["name"] for v in (await api.get("/videos", params=params)).json()["videos"]]

    assert await names(nameSearchQuery="promo") == ["Summer Promo"]
    assert await names(avatarId=avatars[1].id) == ["Winter"]
    assert await names(voiceId=avatars[0].voice_id or "") == ["Summer Promo"]
    assert await names(extrasFilter=json.dumps({"X_ID": "2"})) == ["Winter"]
    bad = await api.get("/videos", params={"extrasFilter": "{oops"})
    assert bad.status == 400
    assert bad.json()["message"].startswith("extrasFilter:")
    assert (await api.get("/videos", params={"limit": "0"})).status == 400


async def test_subtitle_styles_page_in_envelope(api: Api):
    """15 styles: two pages of the default 10; pageSize bounds are enforced."""
    first = (await api.get("/subtitles")).json()
    assert (
        len(first["items"]),
        first["totalItems"],
        first["totalPages"],
        first["itemsPerPage"],
    ) == (10, 15, 2, 10)
    second = (await api.get("/subtitles", params={"page": 2})).json()
    assert len(second["items"]) == 5
    assert not {s["id"] for s in first["items"]} & {s["id"] for s in second["items"]}
    assert (await api.get("/subtitles", params={"page": 3})).json()["items"] == []
    assert (await api.get("/subtitles", params={"pageSize": 101})).status == 400


async def test_export_vtt_and_ass(sim: ArgilSimulator, api: Api):
    """Export is 400 while IDLE, then text/vtt or text/x-ass with an attachment filename."""
    video = await api.create_video(
        moments=[{"avatarId": await api.avatar_id(), "transcript": "Hello world"}]
    )
    path = f"/subtitles/videos/{video['id']}/export"
    assert (await api.get(path)).status == 400
    await api.post(f"/videos/{video['id']}/render")
    vtt = await api.get(path)
    assert vtt.headers["Content-Type"].startswith("text/vtt")
    assert vtt.headers["Content-Disposition"] == f"attachment; filename={video['id']}.vtt"
    assert vtt.body.decode().startswith("WEBVTT\n\n00:00:00.000 --> ")
    assert b"Hello world" in vtt.body
    ass = await api.get(path, params={"format": "ass", "includeStyling": "true"})
    assert ass.headers["Content-Type"].startswith("text/x-ass")
    assert b"[V4+ Styles]" in ass.body
    assert b"Dialogue: 0,0:00:00.00" in ass.body
    plain = await api.get(path, params={"format": "ass"})
    assert b"[V4+ Styles]" not in plain.body
    assert (await api.get(path, params={"format": "srt"})).status == 400


async def test_export_bad_and_unknown_ids(api: Api):
    """A malformed id is 400 on export; an unknown uuid is 404."""
    assert (await api.get("/subtitles/videos/not-a-uuid/export")).status == 400
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await api.get(f"/subtitles/videos/{unknown}/export")).status == 404


async def test_created_at_key_quirk(sim_factory, http):
    """created_at_key="createAt" emits the misspelt key some doc examples show."""
    sim = await sim_factory(check_spec=False, created_at_key="createAt")
    avatar = (await Api(http, sim).get("/avatars")).json()[0]
    assert "createAt" in avatar
    assert "createdAt" not in avatar


async def test_render_callback_scheme_is_case_insensitive(sim_factory, http):
    """An https callbackUrl whose scheme is written in upper case is accepted as https."""
    sim = await sim_factory(allow_loopback_http_callbacks=False)
    api = Api(http, sim)
    video = await api.create_video()
    url = "HTTPS://127.0.0.1:9/cb"
    reply = await api.post(f"/videos/{video['id']}/render", json={"callbackUrl": url})
    assert (reply.status, reply.json()["status"]) == (200, "GENERATING_AUDIO")

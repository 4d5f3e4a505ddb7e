"""Avatars and voices: seeded stock, filters, image and video avatar training, voice cloning."""

from __future__ import annotations

import pytest
from sim_http import Api

from argil_async._cli._demo import make_png
from argil_async._images import data_uri
from argil_async.testing import ArgilSimulator

IMAGE = {"type": "IMAGE", "name": "Me", "datasetImage": {"url": "https://cdn.test/me.png"}}


async def test_stock_avatars_are_public_idle_with_gestures(api: Api):
    """Seeded avatars: IDLE, both orientations and models, gestures and a voiceId each."""
    avatars = (await api.get("/avatars")).json()
    assert 3 <= len(avatars) <= 4
    assert all(a["status"] == "IDLE" and a["gestures"] and a["voiceId"] for a in avatars)
    assert {a["orientation"] for a in avatars} == {"ASPECT_RATIO_16_9", "ASPECT_RATIO_9_16"}
    assert {a["model"] for a in avatars} == {"ARGIL_V1", "ARGIL_ATOM"}
    assert set(avatars[0]["gestures"][0]) == {"label", "slug", "startFrame"}


async def test_avatar_filters(sim: ArgilSimulator, api: Api):
    """orientation, model and visibility filter the list; bad values are 400."""
    portrait = (await api.get("/avatars", params={"orientation": "ASPECT_RATIO_9_16"})).json()
    assert portrait
    assert all(a["orientation"] == "ASPECT_RATIO_9_16" for a in portrait)
    atom = (await api.get("/avatars", params={"model": "ARGIL_ATOM"})).json()
    assert atom
    assert all(a["model"] == "ARGIL_ATOM" for a in atom)
    assert (await api.get("/avatars", params={"visibility": "private"})).json() == []
    assert (await api.get("/avatars", params={"visibility": "secret"})).status == 400


async def test_image_avatar_trains_and_designs_a_voice(sim: ArgilSimulator, api: Api):
    """201 TRAINING, then IDLE with a new auto-designed voice; get by id works."""
    reply = await api.post("/avatars", json={**IMAGE, "extras": {"k": "v"}})
    assert (reply.status, reply.json()["status"]) == (201, "TRAINING")
    voices_before = len(sim.state.voices)
    await sim.drain()
    avatar = (await api.get(f"/avatars/{reply.json()['id']}")).json()
    assert avatar["status"] == "IDLE"
    assert len(sim.state.voices) == voices_before + 1
    assert (await api.get(f"/voices/{avatar['voiceId']}")).status == 200
    private = (await api.get("/avatars", params={"visibility": "private"})).json()
    assert [a["id"] for a in private] == [avatar["id"]]


async def test_image_avatar_keeps_the_given_voice(sim: ArgilSimulator, api: Api):
    """With voiceId no voice is designed."""
    voice_id = next(iter(sim.state.voices))
    created = (await api.post("/avatars", json={**IMAGE, "voiceId": voice_id})).json()
    await sim.drain()
    assert sim.state.avatars[created["id"]].voice_id == voice_id


@pytest.mark.parametrize("outcome", ["TRAINING_FAILED", "REFUSED"])
async def test_avatar_outcome_markers(sim: ArgilSimulator, api: Api, outcome):
    """extras.simOutcome makes training end in that failure status."""
    created = (await api.post("/avatars", json={**IMAGE, "extras": {"simOutcome": outcome}})).json()
    await sim.drain()
    assert sim.state.avatars[created["id"]].status == outcome


async def test_base64_image_is_accepted(api: Api):
    """A data-URI image is the other accepted datasetImage form."""
    body = {**IMAGE, "datasetImage": {"base64": data_uri(make_png(720, 1280))}}
    assert (await api.post("/avatars", json=body)).status == 201


@pytest.mark.parametrize(
    ("image", "message"),
    [
        ("data:image/png;base64,!!notbase64", "must be a data URI"),
        ("data:image/png;base64,iVBORw0KGgo=", "the image must have a readable image header"),
        (data_uri(b"GIF89a" + bytes(64)), "the image must be a PNG, JPEG or WEBP image"),
        (data_uri(make_png(1000, 1000)), "the image must be exactly 16:9 or 9:16, got 1000x1000"),
        (data_uri(make_png(640, 360)), "the image must be from 720p (1280x720) to 4K"),
        (data_uri(make_png(4096, 2304)), "the image must be from 720p (1280x720) to 4K"),
    ],
)
async def test_base64_images_are_checked_as_argil_documents(api: Api, image: str, message: str):
    """Undecodable base64, unknown formats, wrong ratios and sizes are 400s."""
    reply = await api.post("/avatars", json={**IMAGE, "datasetImage": {"base64": image}})
    assert reply.status == 400
    assert message in reply.json()["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "PHOTO"}, "type: must be IMAGE"),
        (
            {"datasetImage": {"url": "http://cdn.test/me.png"}},
            "datasetImage.url: must be an absolute https URL",
        ),
        (
            {"datasetImage": {"url": "https://a.test/x.png", "base64": "data:image/png;base64,"}},
            "datasetImage: must have exactly one",
        ),
        (
            {"datasetImage": {"base64": "data:text/plain;base64,aGk="}},
            "datasetImage.base64: must be a data URI",
        ),
        ({"voiceId": "00000000-0000-4000-8000-000000000000"}, "voiceId: voice"),
        ({"extras": {str(i): "v" for i in range(11)}}, "extras: at most 10 keys"),
        ({"extras": {"k": "v" * 257}}, "extras.k: must be at most 256 characters"),
        ({"name": ""}, "name: must be a non-empty string"),
        ({"color": "red"}, "color: unknown field"),
        ({"callbackUrl": "http://example.com/hook"}, "callbackUrl: must be an https URL"),
        ({"callbackUrl": 7}, "callbackUrl: must be"),
    ],
)
async def test_image_avatar_validation(api: Api, change, message):
    """Invalid image-avatar bodies are 400s naming the field and rule."""
    reply = await api.post("/avatars", json={**IMAGE, **change})
    assert reply.status == 400
    assert reply.json()["message"].startswith(message)


async def test_deprecated_video_avatar_goes_through_not_trained(sim_factory, http):
    """The video-dataset body starts NOT_TRAINED, then TRAINING, then IDLE."""
    sim = await sim_factory(avatar_training_time=1.0)  # half a second in each state, observable
    api = Api(http, sim)
    body = {
        "name": "Old style",
        "datasetVideo": {"url": "https://cdn.test/d.mp4"},
        "consentVideo": {"url": "https://cdn.test/c.mp4"},
    }
    created = (await api.post("/avatars", json=body)).json()
    assert created["status"] == "NOT_TRAINED"
    avatar = sim.state.avatars[created["id"]]
    await sim.wait_until(lambda: avatar.status == "TRAINING")
    await sim.drain()
    assert avatar.status == "IDLE"


async def test_video_avatar_with_type_video_and_missing_consent(sim_factory, http):
    """type "VIDEO" is tolerated; a missing consentVideo is a 400."""
    api = Api(http, await sim_factory(check_spec=False))
    body = {"type": "VIDEO", "name": "x", "datasetVideo": {"url": "https://cdn.test/d.mp4"}}
    reply = await api.post("/avatars", json=body)
    assert (reply.status, reply.json()["message"]) == (400, "consentVideo: is required")
    body["consentVideo"] = {"url": "https://cdn.test/c.mp4"}
    assert (await api.post("/avatars", json=body)).status == 201


async def test_unknown_avatar_and_voice_are_404(api: Api):
    """Unknown ids are JSON 404s naming the resource."""
    for path in ("/avatars/nope", "/voices/nope"):
        reply = await api.get(path)
        assert reply.status == 404
        assert reply.json()["message"].endswith("not found: nope")


async def test_voices_with_nulls_and_filters(api: Api):
    """Six IDLE voices, some with null language/gender; language and gender filter."""
    voices = (await api.get("/voices")).json()
    assert len(voices) == 6
    assert all(v["status"] == "IDLE" for v in voices)
    assert any(v["language"] is None for v in voices)
    assert any(v["gender"] is None for v in voices)
    english = (await api.get("/voices", params={"language": "ENGLISH", "gender": "MALE"})).json()
    assert [v["name"] for v in english] == ["James"]
    assert (await api.get("/voices", params={"language": "KLINGON"})).status == 400


async def test_clone_voice(sim: ArgilSimulator, api: Api):
    """POST /voices gives 201 and an IDLE voice usable at once; settings are range-checked."""
    body = {"name": "Mine", "audioUrl": "https://cdn.test/me.mp3", "voiceSpeed": 1.1}
    reply = await api.post("/voices", json=body)
    assert (reply.status, reply.json()["status"]) == (201, "IDLE")
    assert reply.json()["id"] in sim.state.voices
    bad = await api.post("/voices", json={**body, "voiceSpeed": 2})
    assert bad.json()["message"] == "voiceSpeed: must be between 0.7 and 1.2"
    http_url = await api.post("/voices", json={**body, "audioUrl": "http://cdn.test/me.mp3"})
    assert http_url.status == 400

"""SDK models in web frameworks: a real FastAPI app returns them as the API's JSON."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from argil_async import Avatar, Video
from argil_async._decoding import decode

VIDEO_JSON: dict[str, Any] = {
    "id": "v1",
    "name": "Welcome",
    "status": "DONE",
    "videoUrl": "https://cdn.test/v1.mp4",
    "createdAt": "2026-01-02T03:04:05Z",
    "moments": [{"avatarId": "a1", "transcript": "Hello"}],
    "extras": {"job": "42"},
}
AVATAR_JSON: dict[str, Any] = {
    "id": "a1",
    "name": "Ana",
    "createAt": "2026-01-02T03:04:05Z",  # the docs' other spelling, folded into createdAt
    "gestures": [{"label": "wave", "slug": "wave-1", "startFrame": 3}],
}


@pytest.fixture
def app() -> TestClient:
    """A FastAPI app with annotated, response_model and unannotated endpoints."""
    api = FastAPI()
    video = decode(Video, msgspec.json.encode(VIDEO_JSON))
    avatar = decode(Avatar, msgspec.json.encode(AVATAR_JSON))

    @api.get("/annotated")
    def annotated() -> Video:
        return video

    @api.get("/response-model", response_model=list[Avatar])
    def listed() -> Any:
        return [avatar]

    @api.get("/plain")
    def plain():  # type: ignore[no-untyped-def]
        return {"video": video, "avatars": [avatar]}

    @api.get("/dict")
    def as_dict() -> dict:  # type: ignore[type-arg]
        return {"video": video}

    @api.get("/dict-any")
    def as_dict_any() -> dict[str, Any]:
        return {"video": video, "avatars": [avatar], "count": 1}

    @api.get("/response-model-dict", response_model=dict[str, Any])
    def as_response_model_dict() -> Any:
        return {"video": video}

    @api.get("/list-any")
    def as_list_any() -> list[Any]:
        return [avatar, {"nested": video}]

    return TestClient(api)


def test_annotated_endpoint_returns_the_api_json(app: TestClient):
    """An endpoint annotated `-> Video` answers the API's camelCase JSON."""
    body = app.get("/annotated").json()
    assert body["videoUrl"] == "https://cdn.test/v1.mp4"
    assert body["moments"][0]["avatarId"] == "a1"
    assert body["extras"] == {"job": "42"}
    assert body["createdAt"].startswith("2026-01-02T03:04:05")


def test_response_model_and_unannotated_endpoints(app: TestClient):
    """response_model=list[Avatar] and a bare dict holding models both serialize."""
    (avatar,) = app.get("/response-model").json()
    assert avatar["gestures"] == [{"label": "wave", "slug": "wave-1", "startFrame": 3.0}]
    assert avatar["createdAt"].startswith("2026-01-02")
    assert "createAt" not in avatar
    plain = app.get("/plain").json()
    assert plain["video"]["videoUrl"] == "https://cdn.test/v1.mp4"
    assert plain["avatars"][0]["id"] == "a1"


def test_openapi_document_describes_the_models(app: TestClient):
    """The app's OpenAPI document builds and names the model's camelCase fields."""
    document = app.get("/openapi.json").json()
    schema = document["paths"]["/annotated"]["get"]["responses"]["200"]["content"]
    text = msgspec.json.encode(schema).decode()
    assert "videoUrl" in text
    assert "avatarId" in text


def test_to_dict_snake_case():
    """to_dict(case="snake") gives the Python attribute names, nested models included."""
    avatar = decode(Avatar, msgspec.json.encode(AVATAR_JSON))
    snake = avatar.to_dict(case="snake")
    assert snake["created_at"].startswith("2026-01-02")
    assert snake["gestures"] == [{"label": "wave", "slug": "wave-1", "start_frame": 3.0}]
    assert "create_at_" not in snake
    assert "createdAt" in avatar.to_dict()
    assert dict(avatar) == avatar.to_dict()


@pytest.mark.parametrize("path", ["/dict", "/dict-any", "/response-model-dict"])
def test_dict_return_types_holding_models(app: TestClient, path: str):
    """Endpoints typed `-> dict`, `-> dict[str, Any]` or response_model=dict answer the models."""
    response = app.get(path)
    assert response.status_code == 200, response.text
    video = response.json()["video"]
    assert video["videoUrl"] == "https://cdn.test/v1.mp4"
    assert video["createdAt"].startswith("2026-01-02T03:04:05")


def test_list_any_return_type_holding_models(app: TestClient):
    """An endpoint typed `-> list[Any]` serializes models at any depth, createAt folded."""
    avatar, wrapper = app.get("/list-any").json()
    assert avatar["createdAt"].startswith("2026-01-02")
    assert "createAt" not in avatar
    assert wrapper["nested"]["moments"][0]["avatarId"] == "a1"

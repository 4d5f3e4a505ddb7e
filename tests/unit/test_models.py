"""Lenient decoding of responses and the wire shape of request pieces."""

from __future__ import annotations

import json

import msgspec
import pytest

from argil_async import AutoBrolls, Broll, Moment, Subtitles, Zoom
from argil_async._decoding import decode
from argil_async.errors import ResponseValidationError
from argil_async.models import Asset, Avatar, Video, Voice, Webhook


def test_unknown_fields_and_new_statuses_decode():
    """Fields the SDK does not know are ignored and new status values are kept as strings."""
    body = b"""{"id": "v1", "status": "QUEUED_FOR_LASERS", "brandNewField": {"x": 1},
               "moments": [{"avatarId": "a", "transcript": "t", "futureKey": true}]}"""
    video = decode(Video, body)
    assert video.status == "QUEUED_FOR_LASERS"
    assert video.moments is not None
    assert video.moments[0].avatar_id == "a"


@pytest.mark.parametrize("cls", [Asset, Avatar, Video, Voice, Webhook])
def test_create_at_spelling_fills_created_at(cls: type):
    """The docs' createAt spelling is read into created_at."""
    obj = decode(cls, b'{"id": "x", "createAt": "2023-11-07T05:31:56Z"}')
    assert obj.created_at is not None
    assert obj.created_at.year == 2023


def test_minimal_objects_decode_with_everything_optional():
    """Objects holding only an id (the docs' sparse examples) decode."""
    for cls in (Asset, Avatar, Video, Voice, Webhook):
        assert decode(cls, b'{"id": "only"}').id == "only"


def test_missing_id_is_a_validation_error():
    """An object without its id is not silently accepted."""
    with pytest.raises(ResponseValidationError, match="id"):
        decode(Video, b'{"name": "no id"}')


def test_old_asset_schema_decodes():
    """The older Asset schema (id, name, type AUDIO, fileUrl only) decodes."""
    asset = decode(Asset, b'{"id": "m", "name": "song", "type": "AUDIO", "fileUrl": "https://f"}')
    assert asset.status is None
    assert asset.file_url == "https://f"


def test_request_pieces_send_only_what_was_set_plus_required_defaults():
    """Request models omit unset fields but always send wire-required ones."""
    wire = msgspec.to_builtins(
        [
            Moment(avatar_id="a", transcript="hi", zoom=Zoom(), broll=Broll(asset_id="b")),
            Subtitles(style_id="s"),
            AutoBrolls(source="STOCKS_VIDEO"),
            AutoBrolls(source="AVATAR_ACTION"),
        ]
    )
    assert wire == [
        {
            "avatarId": "a",
            "transcript": "hi",
            "zoom": {"level": 1.0},
            "broll": {"type": "UPLOAD", "assetId": "b"},
        },
        {"enable": True, "styleId": "s"},
        {"source": "STOCKS_VIDEO", "intensity": "MEDIUM", "enable": True},
        {"source": "AVATAR_ACTION", "enable": True},
    ]


def test_to_dict_uses_wire_names():
    """to_dict gives the API's camelCase keys."""
    asset = decode(Asset, b'{"id": "a", "fileUrl": "https://f", "status": "READY"}')
    assert asset.to_dict()["fileUrl"] == "https://f"


def test_create_at_folds_inside_lists_and_envelopes_only_when_missing():
    """createAt fills created_at in lists and page envelopes; a createdAt given wins."""
    from argil_async._resources.videos import _VideoPage

    items = b'[{"id": "a", "createAt": "2023-11-07T05:31:56Z"}, {"id": "b"}]'
    first, second = decode(list[Asset], items)
    assert first.created_at is not None
    assert first.created_at.year == 2023
    assert second.created_at is None
    page = decode(_VideoPage, b'{"videos": [{"id": "v", "createAt": "2021-01-01T00:00:00Z"}]}')
    assert page.videos[0].created_at is not None
    assert page.videos[0].created_at.year == 2021
    optional = decode(Asset | None, b'{"id": "o", "createAt": "2022-02-02T00:00:00Z"}')
    assert optional is not None
    assert optional.created_at is not None
    assert optional.created_at.year == 2022
    both = b'{"id": "x", "createdAt": "2024-01-01T00:00:00Z", "createAt": "2020-01-01T00:00:00Z"}'
    video = decode(Video, both)
    assert video.created_at is not None
    assert video.created_at.year == 2024


def test_repr_hides_the_internal_create_at_field():
    """A model's repr shows created_at and its fields, never the internal create_at_."""
    asset = decode(Asset, b'{"id": "a", "createAt": "2023-11-07T05:31:56Z", "name": "n"}')
    text = repr(asset)
    assert "create_at_" not in text
    assert text.startswith("Asset(id='a', name='n'")
    assert "created_at=datetime.datetime(2023, 11, 7" in text


def test_to_dict_folds_the_create_at_spelling():
    """to_dict shows createdAt only, whichever spelling the server used."""
    avatar = decode(Avatar, b'{"id": "a", "createAt": "2023-11-07T05:31:56Z"}')
    wire = avatar.to_dict()
    assert "createAt" not in wire
    assert wire["createdAt"].startswith("2023-11-07")


@pytest.mark.parametrize(
    ("model", "body"),
    [
        (Video, b'{"id": "v", "status": "PUBLISHED", "aspectRatio": "1:1"}'),
        (Avatar, b'{"id": "a", "status": "ARCHIVED", "model": "ARGIL_V9"}'),
        (Asset, b'{"id": "s", "status": "QUEUED", "type": "AUDIO_3D"}'),
    ],
)
def test_unknown_enumeration_values_still_decode(model: type, body: bytes):
    """A status or enumeration value Argil adds later decodes as the string it is."""
    decoded = decode(model, body)
    assert decoded.status == json.loads(body)["status"]

"""Tests for argil_async.events: the webhook payload models and parse_event."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import msgspec
import pytest

import argil_async.events as events_module
from argil_async.errors import ResponseValidationError
from argil_async.events import (
    AvatarTrainingFailed,
    AvatarTrainingSucceeded,
    UnknownEvent,
    VideoGenerationFailed,
    VideoGenerationSucceeded,
    parse_event,
)


def envelope(event: str, **data: Any) -> dict[str, Any]:
    return {"event": event, "data": data}


def test_video_generation_success_payload() -> None:
    """VIDEO_GENERATION_SUCCESS maps every documented field to snake_case."""
    body = envelope(
        "VIDEO_GENERATION_SUCCESS",
        videoId="v1",
        videoName="My video",
        videoUrl="https://cdn.example/final.mp4",
        extras={"X_ID": "abc"},
    )
    event = parse_event(json.dumps(body).encode())
    assert event == VideoGenerationSucceeded(
        video_id="v1",
        video_name="My video",
        video_url="https://cdn.example/final.mp4",
        extras={"X_ID": "abc"},
        raw=body["data"],
    )
    assert event.event == VideoGenerationSucceeded.event == "VIDEO_GENERATION_SUCCESS"


def test_video_generation_failed_payload() -> None:
    """VIDEO_GENERATION_FAILED parses, and an empty or null video URL becomes None."""
    for url in ("", None):
        body = envelope("VIDEO_GENERATION_FAILED", videoId="v2", videoName="n", videoUrl=url)
        event = parse_event(body)
        assert isinstance(event, VideoGenerationFailed)
        assert (event.video_id, event.video_name, event.video_url) == ("v2", "n", None)
        assert event.event == "VIDEO_GENERATION_FAILED"


def test_avatar_training_success_payload() -> None:
    """AVATAR_TRAINING_SUCCESS carries the avatar id, its voice id and name."""
    body = envelope(
        "AVATAR_TRAINING_SUCCESS", avatarId="a1", voiceId="vo1", avatarName="Ann", extras={}
    )
    event = parse_event(body)
    assert event == AvatarTrainingSucceeded(
        avatar_id="a1", voice_id="vo1", avatar_name="Ann", extras={}, raw=body["data"]
    )
    assert event.event == "AVATAR_TRAINING_SUCCESS"


def test_avatar_training_failed_payload() -> None:
    """AVATAR_TRAINING_FAILED carries the avatar id and name."""
    event = parse_event(envelope("AVATAR_TRAINING_FAILED", avatarId="a2", avatarName="Bob"))
    assert isinstance(event, AvatarTrainingFailed)
    assert (event.avatar_id, event.avatar_name, event.extras) == ("a2", "Bob", {})


def test_avatar_generation_failed_alias() -> None:
    """The AVATAR_GENERATION_FAILED name from the docs' prose parses as AvatarTrainingFailed."""
    event = parse_event(envelope("AVATAR_GENERATION_FAILED", avatarId="a3"))
    assert isinstance(event, AvatarTrainingFailed)
    assert event.event == "AVATAR_TRAINING_FAILED"


def test_documented_examples_with_empty_strings() -> None:
    """The docs' literal examples (every value "") parse, with extras "" giving {}."""
    event = parse_event(
        '{"event":"VIDEO_GENERATION_SUCCESS","data":'
        '{"videoId":"","videoName":"","videoUrl":"","extras":""}}'
    )
    assert isinstance(event, VideoGenerationSucceeded)
    assert (event.video_id, event.video_url, event.extras) == ("", None, {})


@pytest.mark.parametrize(
    ("extras", "expected"),
    [
        ({"k": "v"}, {"k": "v"}),
        ('{"k": "v"}', {"k": "v"}),
        (None, {}),
        ("", {}),
        ("not json", {}),
        ("[1, 2]", {}),
        ([1, 2], {}),
        ({"n": 1, "b": True, "x": None, "o": {"a": 1}}, {"n": "1", "b": "true", "o": '{"a":1}'}),
    ],
)
def test_extras_forms(extras: Any, expected: dict[str, str]) -> None:
    """extras as an object, a JSON string, null or junk always ends up a dict[str, str]."""
    event = parse_event(envelope("VIDEO_GENERATION_SUCCESS", videoId="v", extras=extras))
    assert isinstance(event, VideoGenerationSucceeded)
    assert event.extras == expected
    assert event.raw["extras"] == extras


def test_missing_extras_and_optional_fields() -> None:
    """Only the id is required; the other fields default to None and extras to {}."""
    event = parse_event(envelope("AVATAR_TRAINING_SUCCESS", avatarId="a"))
    assert event == AvatarTrainingSucceeded(avatar_id="a", raw={"avatarId": "a"})
    assert (event.voice_id, event.avatar_name, event.extras) == (None, None, {})


def test_unknown_fields_are_ignored_and_kept_in_raw() -> None:
    """Unknown fields in data and in the envelope are ignored, yet kept in raw."""
    body = {
        "event": "VIDEO_GENERATION_SUCCESS",
        "deliveredAt": "2025-01-01T00:00:00Z",
        "data": {"videoId": "v", "durationSeconds": 12.5, "thumbnailUrl": "https://x/t.png"},
    }
    event = parse_event(body)
    assert isinstance(event, VideoGenerationSucceeded)
    assert event.video_id == "v"
    assert event.raw["durationSeconds"] == 12.5


def test_unknown_event_name() -> None:
    """An event name this version does not know gives UnknownEvent with its data."""
    event = parse_event(envelope("VIDEO_DELETED", videoId="v", foo=[1]))
    assert event == UnknownEvent(event="VIDEO_DELETED", data={"videoId": "v", "foo": [1]})
    assert event.raw is event.data


def test_unknown_event_without_data_object() -> None:
    """An unknown event with no data, or non-object data, gets an empty data dict."""
    assert parse_event({"event": "PING"}) == UnknownEvent(event="PING", data={})
    assert parse_event({"event": "PING", "data": [1]}) == UnknownEvent(event="PING", data={})


def test_event_names_are_case_insensitive() -> None:
    """Known event names match whatever their case or surrounding spaces."""
    event = parse_event(envelope(" video_generation_success ", videoId="v"))
    assert isinstance(event, VideoGenerationSucceeded)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b'{"event": "VIDEO_GENERATION_SUCCESS"',
        b"[]",
        b'["VIDEO_GENERATION_SUCCESS"]',
        b"42",
        b'"VIDEO_GENERATION_SUCCESS"',
        b"{}",
        b'{"data": {"videoId": "v"}}',
        b'{"event": 3, "data": {}}',
        b'{"event": null}',
    ],
)
def test_bad_bodies_raise(body: bytes) -> None:
    """Bodies that are not JSON, not an object, or lack an event string raise."""
    with pytest.raises(ResponseValidationError, match="webhook body") as info:
        parse_event(body)
    assert info.value.body == body


@pytest.mark.parametrize(
    "data",
    [None, [], "x", {}, {"videoId": 5}, {"videoName": "no id"}, {"videoId": "v", "videoUrl": 1}],
)
def test_known_event_with_bad_data_raises(data: Any) -> None:
    """A known event whose data is missing, not an object, or lacks a string id raises."""
    with pytest.raises(ResponseValidationError, match="VIDEO_GENERATION_FAILED"):
        parse_event({"event": "VIDEO_GENERATION_FAILED", "data": data})


def test_unsupported_input_type_raises() -> None:
    """A body that is neither bytes, str nor a mapping raises ResponseValidationError."""
    with pytest.raises(ResponseValidationError, match="unsupported type"):
        parse_event(42)  # type: ignore[arg-type]


def test_bytes_str_and_mapping_inputs_agree() -> None:
    """bytes, bytearray, memoryview, str, dict and other mappings all parse the same."""
    body = envelope("VIDEO_GENERATION_SUCCESS", videoId="v", extras='{"a": "b"}')
    text = json.dumps(body)
    inputs: list[Any] = [
        text,
        text.encode(),
        bytearray(text.encode()),
        memoryview(text.encode()),
        body,
        MappingProxyType(body),
    ]
    parsed = [parse_event(item) for item in inputs]
    assert all(event == parsed[0] for event in parsed)
    assert isinstance(parsed[0], VideoGenerationSucceeded)
    assert parsed[0].extras == {"a": "b"}


def test_events_are_frozen_structs() -> None:
    """Events are immutable msgspec Structs that encode to snake_case JSON."""
    event = parse_event(envelope("VIDEO_GENERATION_SUCCESS", videoId="v", extras={"a": "b"}))
    assert isinstance(event, VideoGenerationSucceeded)
    with pytest.raises(AttributeError):
        event.video_id = "other"  # type: ignore[misc]
    encoded = msgspec.json.decode(msgspec.json.encode(event))
    assert encoded["video_id"] == "v"
    assert encoded["extras"] == {"a": "b"}


def test_all_is_sorted_and_complete() -> None:
    """__all__ is sorted and every name in it is importable from argil_async.events."""
    names = events_module.__all__
    assert names == sorted(names)
    for name in names:
        assert getattr(events_module, name) is not None


def test_unknown_module_attribute_raises() -> None:
    """The lazy module __getattr__ still raises AttributeError for unknown names."""
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = events_module.no_such_name

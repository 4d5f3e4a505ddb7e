"""Per-call options: refused before sending when bad, accepted by every API method."""

from __future__ import annotations

import inspect

import pytest

from argil_async import Argil, AsyncArgil, InvalidRequestError


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout": "5"}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"extra_headers": {"X": 1}}, "extra_headers['X']"),
        ({"extra_query": ["a"]}, "extra_query"),
        ({"extra_body": {1: "x"}}, "extra_body"),
        ({"retries": 3}, "retries"),
    ],
)
def test_bad_options_refused_before_sending(options: dict[str, object], field: str):
    """A bad option raises InvalidRequestError naming it, before anything is sent."""
    client = AsyncArgil(api_key="k", base_url="https://api.test/v1")
    with pytest.raises(InvalidRequestError) as info:
        client.with_options(**options)  # type: ignore[arg-type]
    assert info.value.field == field


RESOURCE_CLASSES = ["assets", "avatars", "voices", "videos", "subtitles", "webhooks"]


@pytest.mark.parametrize("name", RESOURCE_CLASSES)
def test_every_api_method_takes_the_options(name: str):
    """Every public method of every resource (async and sync) takes **options."""
    client = AsyncArgil(api_key="k", base_url="https://api.test/v1")
    for resource in (getattr(client, name), getattr(Argil(api_key="k"), name)):
        for attr in dir(resource):
            if attr.startswith("_"):
                continue
            if attr == "with_raw_response":  # a view of these same methods (checked below)
                view = resource.with_raw_response
                members = [m for m in dir(type(view)) if not m.startswith("_")]
                for member in members:
                    kinds = inspect.signature(getattr(view, member)).parameters.values()
                    assert inspect.Parameter.VAR_KEYWORD in {p.kind for p in kinds}, member
                continue
            params = inspect.signature(getattr(resource, attr)).parameters
            # voices.create's ** holds the voice settings too: it takes the options out of them
            keywords = "settings" if (name, attr) == ("voices", "create") else "options"
            assert keywords in params, f"{name}.{attr}"
            assert params[keywords].kind is inspect.Parameter.VAR_KEYWORD, f"{name}.{attr}"

"""The simulator's in-memory records: plain dataclasses with snake_case attributes.

They hold what the server knows, including internal facts the API never shows (a source URL, a
visibility flag). `_present.py` turns them into the JSON the API returns, so tests can read and
tweak state freely without caring about wire names. URL fields hold simulator-relative paths
(`/files/...`); responses make them absolute for whichever host the client used.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


def new_id() -> str:
    """A fresh uuid4 string, the id format of every Argil resource."""
    return str(uuid.uuid4())


def utc_now() -> str:
    """The current time as ISO-8601 with a `Z` suffix, like the API's examples."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class SimAsset:
    """An uploaded IMAGE/VIDEO asset or a system AUDIO track."""

    name: str | None
    type: str
    status: str = "PROCESSING"
    source_url: str | None = None
    file_path: str | None = None
    thumbnail_path: str | None = None
    system: bool = False
    id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=utc_now)


@dataclass
class SimAvatar:
    """A public stock avatar or one created in the workspace (image or deprecated video mode)."""

    name: str
    status: str
    orientation: str = "ASPECT_RATIO_16_9"
    model: str = "ARGIL_ATOM"
    visibility: str = "private"
    voice_id: str | None = None
    actor_name: str = ""
    gestures: list[dict[str, Any]] = field(default_factory=list)
    extras: dict[str, str] = field(default_factory=dict)
    callback_url: str | None = None  # POSTed once when training ends (image avatars)
    width: int = 1920
    height: int = 1080
    id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)


@dataclass
class SimVoice:
    """A voice: seeded, cloned with POST /voices, or auto-designed for a new avatar."""

    name: str
    language: str | None = None
    gender: str | None = None
    status: str = "IDLE"
    id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)


@dataclass
class SimVideo:
    """A video project; `moments` keep the accepted input plus the fields the render adds."""

    name: str
    moments: list[dict[str, Any]]
    aspect_ratio: str
    model: str
    status: str = "IDLE"
    subtitles: dict[str, Any] = field(default_factory=lambda: {"enable": False})
    extras: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    duration: float | None = None
    video_path: str | None = None
    subtitled_path: str | None = None
    id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)


@dataclass
class SimWebhook:
    """A registered webhook; `last_triggered_at` stays None until the first delivery."""

    callback_url: str
    events: list[str]
    last_triggered_at: str | None = None
    signing_secret: str | None = None
    id: str = field(default_factory=new_id)
    created_at: str = field(default_factory=utc_now)
    updated_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class SimSubtitleStyle:
    """A subtitle style listed by GET /subtitles."""

    name: str
    id: str = field(default_factory=new_id)


@dataclass(frozen=True)
class RecordedRequest:
    """One API request as received: what tests assert on and what the OpenAPI checker reads.

    `route` is the matched template, e.g. "POST /videos/{id}/render" ("GET <unmatched>" for an
    unknown path); `path` is the full path including `/v1`; header names are lower-case.
    """

    request_id: str
    method: str
    path: str
    route: str
    path_params: dict[str, str]
    query_string: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Delivery:
    """One webhook POST attempt: `status` is the receiver's HTTP status, or None with `error`.

    `headers` are those sent besides Content-Type: the signature headers of a signed delivery.
    """

    event: str
    url: str
    payload: dict[str, Any]
    status: int | None = None
    error: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

"""Avatar image rules read from the header of PNG, JPEG and WEBP files (no imaging library)."""

from __future__ import annotations

import struct
from pathlib import Path

import msgspec
import pytest
from support.fakes import json_response, scripted_client

from argil_async import InvalidRequestError
from argil_async._cli._demo import make_png
from argil_async._images import MAX_IMAGE_BYTES, data_uri, image_problem, image_size


def jpeg(width: int, height: int) -> bytes:
    """A JPEG header: SOI, an APP0 segment, then a baseline SOF0 frame of the given size."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00" + bytes(9)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + bytes(3)
    return b"\xff\xd8" + app0 + b"\xff\xff" + sof0 + b"\xff\xd9"


def webp(width: int, height: int, kind: bytes) -> bytes:
    """A WEBP header in the lossy (VP8), lossless (VP8L) or extended (VP8X) layout."""
    if kind == b"VP8 ":
        chunk = bytes(3) + b"\x9d\x01\x2a" + struct.pack("<HH", width, height)
    elif kind == b"VP8L":
        chunk = b"\x2f" + struct.pack("<I", (width - 1) | (height - 1) << 14)
    else:
        chunk = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(chunk)) + b"WEBP" + kind + bytes(4) + chunk


@pytest.mark.parametrize(
    ("data", "size"),
    [
        (make_png(1280, 720), (1280, 720)),
        (jpeg(2160, 3840), (2160, 3840)),
        (webp(1920, 1080, b"VP8 "), (1920, 1080)),
        (webp(1080, 1920, b"VP8L"), (1080, 1920)),
        (webp(3840, 2160, b"VP8X"), (3840, 2160)),
    ],
)
def test_dimensions_come_from_the_header(data: bytes, size: tuple[int, int]):
    """Each format's header gives width and height, and such an image passes the rules."""
    assert image_size(data) == size
    assert image_problem(data) is None


@pytest.mark.parametrize(
    ("data", "rule"),
    [
        (b"", "must not be empty"),
        (b"GIF89a" + bytes(32), "must be a PNG, JPEG or WEBP image"),
        (b"\x89PNG\r\n\x1a\n" + bytes(8), "readable image header"),
        (b"\xff\xd8\xff\xe0\x00", "readable image header"),
        (jpeg(1280, 721), "exactly 16:9 or 9:16, got 1280x721"),
        (jpeg(1024, 576), "from 720p"),
        (webp(7680, 4320, b"VP8X"), "from 720p"),
        (make_png(1280, 720) + bytes(MAX_IMAGE_BYTES), "at most 10 MB"),
    ],
)
def test_images_breaking_a_rule_are_described(data: bytes, rule: str):
    """Empty, unknown, damaged, off-ratio, too small, too big: each rule is named."""
    problem = image_problem(data)
    assert problem is not None
    assert rule in problem


@pytest.mark.parametrize("form", ["bytes", "path", "data uri"])
async def test_every_image_form_is_checked_and_sent_as_a_data_uri(form: str, tmp_path: Path):
    """Bytes, a path and a data URI go through the same rules and the same wire form."""
    good, bad = jpeg(1920, 1080), jpeg(1000, 1000)
    client, transport = scripted_client(json_response(201, {"id": "a", "status": "TRAINING"}))

    def given(data: bytes) -> object:
        if form == "bytes":
            return data
        if form == "data uri":
            return data_uri(data)
        path = tmp_path / f"{len(transport.requests)}-{data[-8:].hex()}.jpg"
        path.write_bytes(data)
        return path

    with pytest.raises(InvalidRequestError, match="image: must be exactly 16:9"):
        await client.avatars.create(name="n", image=given(bad))  # type: ignore[arg-type]
    await client.avatars.create(name="n", image=given(good))  # type: ignore[arg-type]
    body = msgspec.json.decode(transport.requests[0].body or b"")
    assert body["datasetImage"] == {"base64": data_uri(good)}
    assert body["datasetImage"]["base64"].startswith("data:image/jpeg;base64,")

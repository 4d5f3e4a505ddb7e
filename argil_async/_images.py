"""Avatar image rules, read from the image header (no imaging library needed).

Argil trains an avatar from one PNG, JPEG or WEBP image of at most 10 MB, from 720p up to 4K,
in exactly 16:9 or 9:16. The client checks these before uploading (a refused image would
otherwise cost a round trip of up to 13 MB of base64), and the simulator checks them too:

```python
problem = image_problem(data)     # None, or e.g. "must be 16:9 or 9:16, got 1000x1000"
```
"""

from __future__ import annotations

import base64
import binascii
import re
import struct

__all__ = [
    "MAX_IMAGE_BYTES",
    "data_uri",
    "decode_data_uri",
    "image_format",
    "image_problem",
    "image_size",
]

MAX_IMAGE_BYTES = 10 * 1024 * 1024
_DATA_URI = re.compile(r"data:image/(png|jpeg|jpg|webp);base64,", re.ASCII)
# JPEG start-of-frame markers (they carry the size); C4, C8 and CC are other segments.
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})


def image_format(data: bytes) -> str | None:
    """ "png", "jpeg" or "webp" from the file's signature, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header of a PNG, JPEG or WEBP image; None if unreadable."""
    try:
        kind = image_format(data)
        if kind == "png":
            return _png_size(data)
        if kind == "jpeg":
            return _jpeg_size(data)
        if kind == "webp":
            return _webp_size(data)
    except (struct.error, IndexError):
        pass
    return None


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD9:  # no length field
            pos += 2
            continue
        if marker in _SOF:
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        pos += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        (bits,) = struct.unpack("<I", data[21:25])
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        width = int.from_bytes(data[24:27], "little") + 1
        height = int.from_bytes(data[27:30], "little") + 1
        return width, height
    return None


def image_problem(data: bytes) -> str | None:
    """What breaks Argil's avatar image rules ("must be ..."), or None for a good image."""
    if not data:
        return "must not be empty"
    if len(data) > MAX_IMAGE_BYTES:
        return f"must be at most 10 MB, got {len(data) / 1e6:.1f} MB"
    if image_format(data) is None:
        return "must be a PNG, JPEG or WEBP image"
    size = image_size(data)
    if size is None:
        return "must have a readable image header (the file looks damaged)"
    width, height = size
    if width * 9 != height * 16 and width * 16 != height * 9:
        return f"must be exactly 16:9 or 9:16, got {width}x{height}"
    if not 720 <= min(width, height) <= 2160:
        return f"must be from 720p (1280x720) to 4K (3840x2160), got {width}x{height}"
    return None


def data_uri(data: bytes) -> str:
    """The image as a ``data:image/<format>;base64,...`` URI (its format read from ``data``)."""
    kind = image_format(data) or "png"
    return f"data:image/{kind};base64,{base64.b64encode(data).decode('ascii')}"


def decode_data_uri(uri: str) -> bytes | None:
    """The bytes of an image data URI as the API accepts it; None if it is not one."""
    match = _DATA_URI.match(uri)
    if match is None:
        return None
    try:
        return base64.b64decode(uri[match.end() :], validate=True)
    except (binascii.Error, ValueError):
        return None

"""How long an audio file lasts, read from its first bytes (``batch check --online``).

Argil refuses a moment's audio over its current limit (40 s): ``batch check --online``
measures each ``audioUrl`` of a job file before anything is spent. Only the head of the file
is fetched (128 KiB, a ``Range`` request), and the length is read from it: a WAV file's
``fmt``/``data`` chunks, an MP3 file's Xing/Info or VBRI frame count, or its constant bit
rate and the file's size. Anything else (another format, an unreachable URL) is None:
unknown, and not warned about. Example: ``audio_seconds("https://cdn.example/a.wav")``
gives ``45.0`` for a 45-second WAV file.
"""

from __future__ import annotations

import re
import struct
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

__all__ = ["audio_lengths", "audio_seconds", "duration_of"]

HEAD = 128 * 1024
_TOTAL = re.compile(r"/(\d+)\s*$")
# MPEG audio: bit rates (kbit/s) by (version is 1, layer) and sample rates by version.
_BITRATES = {
    (True, 1): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (True, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (True, 3): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (False, 1): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (False, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    (False, 3): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def audio_seconds(url: str, *, timeout: float = 10.0) -> float | None:
    """The length of the audio at ``url`` in seconds, or None when it cannot be told."""
    request = urllib.request.Request(url, headers={"Range": f"bytes=0-{HEAD - 1}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            head = response.read(HEAD)
            ranged = _TOTAL.search(response.headers.get("Content-Range") or "")
            length = response.headers.get("Content-Length")
    except (OSError, ValueError):  # unreachable, refused, not a URL urllib knows
        return None
    if ranged:
        total = int(ranged.group(1))
    elif length is not None and length.isdigit():
        total = int(length)
    else:
        total = None
    return duration_of(head, total)


def audio_lengths(urls: Iterable[str], *, workers: int = 8) -> dict[str, float]:
    """The lengths of the ``urls`` that could be measured, fetched ``workers`` at a time."""
    distinct = sorted(set(urls))
    if not distinct:
        return {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        found = list(pool.map(audio_seconds, distinct))
    return {url: seconds for url, seconds in zip(distinct, found, strict=True) if seconds}


def duration_of(head: bytes, total: int | None) -> float | None:
    """Seconds of audio from a file's first bytes (``total``: the file's size, if known)."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return _wav(head, total)
    return _mp3(head, total)


def _wav(head: bytes, total: int | None) -> float | None:
    offset, byte_rate = 12, 0
    while offset + 8 <= len(head):
        name, size = head[offset : offset + 4], struct.unpack_from("<I", head, offset + 4)[0]
        if name == b"fmt " and offset + 16 <= len(head):
            byte_rate = struct.unpack_from("<I", head, offset + 16)[0]
        elif name == b"data":
            if not byte_rate:
                return None
            if size in (0, 0xFFFFFFFF) and total is not None:  # a streamed file's header
                size = total - offset - 8
            return float(size) / byte_rate
        offset += 8 + size + (size & 1)
    return None


def _mp3(head: bytes, total: int | None) -> float | None:
    start = 0
    if head[:3] == b"ID3" and len(head) >= 10:
        size = 0
        for byte in head[6:10]:
            size = (size << 7) | (byte & 0x7F)
        start = 10 + size + (10 if head[5] & 0x10 else 0)
    at = head.find(b"\xff", start)
    while 0 <= at <= len(head) - 4 and (head[at + 1] & 0xE0) != 0xE0:
        at = head.find(b"\xff", at + 1)
    if at < 0 or at > len(head) - 4:
        return None
    header = struct.unpack_from(">I", head, at)[0]
    version, layer_bits = (header >> 19) & 3, (header >> 17) & 3
    bitrate_index, rate_index = (header >> 12) & 15, (header >> 10) & 3
    if version == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    layer = 4 - layer_bits
    mpeg1 = version == 3
    rate = _RATES[version][rate_index]
    samples = 384 if layer == 1 else 1152 if layer == 2 or mpeg1 else 576
    mono = (header >> 6) & 3 == 3
    side = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    frames = _vbr_frames(head, at, side)
    if frames:
        return frames * samples / rate
    if total is None:
        return None
    bitrate = _BITRATES[(mpeg1, layer)][bitrate_index] * 1000
    return (total - at) * 8 / bitrate


def _vbr_frames(head: bytes, at: int, side: int) -> int | None:
    """The frame count of a Xing/Info or VBRI header in the first frame, if there is one."""
    xing = at + 4 + side
    if head[xing : xing + 4] in (b"Xing", b"Info") and len(head) >= xing + 12:
        flags = struct.unpack_from(">I", head, xing + 4)[0]
        if flags & 1:
            return int(struct.unpack_from(">I", head, xing + 8)[0])
    vbri = at + 4 + 32
    if head[vbri : vbri + 4] == b"VBRI" and len(head) >= vbri + 18:
        return int(struct.unpack_from(">I", head, vbri + 14)[0])
    return None

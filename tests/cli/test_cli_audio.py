"""`batch check --online` measures audio URLs from their first bytes and warns above 40 s."""

from __future__ import annotations

import functools
import io
import json
import struct
import sys
import threading
import wave
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support.cli import cli, restore_logging, use_sim  # noqa: F401

from argil_async._cli._audio import audio_lengths, audio_seconds, duration_of
from argil_async.testing import ArgilSimulator

_FRAME = b"\xff\xfb\x90\x64"  # MPEG-1 layer III, 128 kbit/s, 44.1 kHz: 417-byte frames


def wav_bytes(seconds: float, rate: int = 8000) -> bytes:
    """A mono 8-bit WAV file of ``seconds`` of silence."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sink:
        sink.setnchannels(1)
        sink.setsampwidth(1)
        sink.setframerate(rate)
        sink.writeframes(b"\x80" * int(seconds * rate))
    return out.getvalue()


def mp3_bytes(seconds: float, *, xing: bool = False, id3: bool = False) -> bytes:
    """A constant-bit-rate MP3 stream of ``seconds`` (frames of zeros), with an optional
    ID3v2 tag and a Xing header (in its first frame) giving the frame count."""
    frames = round(seconds * 44100 / 1152)
    body = bytearray((_FRAME + bytes(413)) * frames)
    if xing:
        body[4 + 32 : 4 + 32 + 12] = b"Xing" + struct.pack(">II", 1, frames)
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 1, 0]) + bytes(128) if id3 else b""
    return tag + bytes(body)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (wav_bytes(45), 45.0),
        (wav_bytes(3.5, rate=22050), 3.5),
        (mp3_bytes(50), 50.0),
        (mp3_bytes(50, xing=True, id3=True), 50.0),
    ],
)
def test_lengths_are_read_from_the_first_bytes(data: bytes, expected: float):
    """WAV chunks, MP3 Xing frame counts and MP3 bit rate x size give the length."""
    # (the synthetic frames lack the padding byte of one in 25: CBR lengths come out 0.2% short)
    assert duration_of(data[: 128 * 1024], len(data)) == pytest.approx(expected, rel=0.01)


def test_an_unknown_format_has_no_length():
    """Bytes that are neither WAV nor MP3: None, not a guess."""
    assert duration_of(b"OggS" + bytes(1000), 1004) is None
    assert duration_of(b"", None) is None


class HeadServer(ThreadingHTTPServer):
    """A threading HTTP server whose clients may hang up mid-file: `--online` reads only a
    file's head, so the server's broken pipe is expected, not reported (reporting it prints to
    a stderr that pytest may have closed, an error in the test's teardown)."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@pytest.fixture
def audio_server(tmp_path: Path) -> Iterator[str]:
    """A loopback HTTP server of tmp_path's files; yields its base URL."""
    (tmp_path / "long.wav").write_bytes(wav_bytes(45))
    (tmp_path / "short.mp3").write_bytes(mp3_bytes(10))
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = HeadServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_audio_urls_are_measured_over_http(audio_server: str):
    """Each URL is fetched once (its head); a missing file is left out."""
    urls = [f"{audio_server}/long.wav", f"{audio_server}/short.mp3", f"{audio_server}/gone.wav"]
    assert audio_seconds(urls[0]) == pytest.approx(45.0)
    lengths = audio_lengths(urls * 2)
    assert set(lengths) == set(urls[:2])
    assert lengths[urls[1]] == pytest.approx(10.0, rel=0.01)


async def test_cli_check_online_warns_about_long_audio(
    sim: ArgilSimulator,
    use_sim,  # noqa: F811
    audio_server: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
):
    """`batch check --online`: the 45 s audio is warned about, the 10 s one not; exit 0."""
    use_sim(sim)
    avatar = next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")
    rows = [
        {"key": name, "name": name, "moments": [{"avatarId": avatar, "audioUrl": url}]}
        for name, url in (
            ("long", f"{audio_server}/long.wav"),
            ("short", f"{audio_server}/short.mp3"),
        )
    ]
    jobs = tmp_path / "jobs.jsonl"
    jobs.write_text("".join(json.dumps(row) + "\n" for row in rows))
    assert await cli("batch", "check", str(jobs), "--online", "--json") == 0
    report = json.loads(capsys.readouterr().out)
    assert [(w["line"], w["field"]) for w in report["warnings"]] == [(1, "moments[0].audioUrl")]
    assert "45 s of audio" in report["warnings"][0]["rule"]

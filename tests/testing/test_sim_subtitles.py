"""Subtitle exports are valid files: well-formed times, one cue per moment, whatever the text."""

from __future__ import annotations

import re

from sim_http import Api

from argil_async.testing import ArgilSimulator

VTT_TIME = r"\d{2}:[0-5]\d:[0-5]\d\.\d{3}"
ASS_TIME = r"\d:[0-5]\d:[0-5]\d\.\d{2}"


async def exported(sim: ArgilSimulator, api: Api, transcripts: list[str], fmt: str) -> str:
    """Create and render a video with one moment per transcript, then export it."""
    avatar = await api.avatar_id()
    moments = [{"avatarId": avatar, "transcript": text} for text in transcripts]
    video = await api.create_video(moments=moments)
    await api.post(f"/videos/{video['id']}/render")
    await sim.drain()
    reply = await api.get(f"/subtitles/videos/{video['id']}/export", params={"format": fmt})
    assert reply.status == 200
    return reply.body.decode()


async def test_vtt_timestamps_never_show_60_seconds(sim: ArgilSimulator, api: Api):
    """Cue times that add up to 59.999... s in floating point are written as 00:01:00.000."""
    text = await exported(sim, api, ["a" * 42, "b" * 491, "c" * 367], "vtt")
    timings = re.findall(r"^(\S+) --> (\S+)$", text, flags=re.MULTILINE)
    assert len(timings) == 3
    assert all(re.fullmatch(VTT_TIME, t) for pair in timings for t in pair), timings
    assert timings[-1][1] == "00:01:00.000"


async def test_ass_timestamps_never_show_60_seconds(sim: ArgilSimulator, api: Api):
    """The same sum is 0:01:00.00 in ASS, never 0:00:60.00."""
    text = await exported(sim, api, ["a" * 42, "b" * 491, "c" * 367], "ass")
    times = re.findall(r"^Dialogue: 0,([^,]+),([^,]+),", text, flags=re.MULTILINE)
    assert all(re.fullmatch(ASS_TIME, t) for pair in times for t in pair), times
    assert times[-1][1] == "0:01:00.00"


async def test_vtt_cue_text_cannot_break_the_file(sim: ArgilSimulator, api: Api):
    """Blank lines, `-->` and markup in a transcript stay inside one escaped cue."""
    text = await exported(sim, api, ["One\n\nTwo --> <b>three</b> & four", "Next"], "vtt")
    blocks = text.strip().split("\n\n")
    assert blocks[0] == "WEBVTT"
    assert [block.split("\n")[1:] for block in blocks[1:]] == [
        ["One Two --&gt; &lt;b&gt;three&lt;/b&gt; &amp; four"],
        ["Next"],
    ]


async def test_ass_dialogue_stays_on_one_line(sim: ArgilSimulator, api: Api):
    """A multi-line transcript is one Dialogue line in ASS."""
    text = await exported(sim, api, ["One\nTwo\r\n\nThree"], "ass")
    [dialogue] = [line for line in text.splitlines() if line.startswith("Dialogue:")]
    assert dialogue.endswith(",Default,One Two Three")

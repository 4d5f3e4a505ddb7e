"""`argil avatars list`, `voices list`, `videos get ID`, `videos list`: tables, JSON, errors."""

from __future__ import annotations

import json

import pytest
from support.cli import cli
from support.client_fixtures import client_for

from argil_async._cli import main
from argil_async.testing import ArgilSimulator


async def make_video(sim: ArgilSimulator, name: str, extras: dict[str, str]) -> str:
    """Create an IDLE video in ``sim``; return its id."""
    avatar = next(a.id for a in sim.state.avatars.values() if a.status == "IDLE")
    async with client_for(sim) as client:
        video = await client.videos.create(
            name=name, moments=[{"avatarId": avatar, "transcript": "Hi"}], extras=extras
        )
    return video.id


async def test_avatars_list_prints_a_table(sim: ArgilSimulator, use_sim, capsys):
    """One header line, then one line per avatar with its id, name and status."""
    use_sim(sim)
    assert await cli("avatars", "list") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "name", "status", "orientation", "model"]
    assert len(lines) == 1 + len(sim.state.avatars)
    assert {line.split()[0] for line in lines[1:]} == set(sim.state.avatars)


async def test_voices_list_json_is_the_api_objects(sim: ArgilSimulator, use_sim, capsys):
    """--json prints a JSON array of voices with the API's camelCase fields."""
    use_sim(sim)
    assert await cli("voices", "list", "--json") == 0
    voices = json.loads(capsys.readouterr().out)
    assert {voice["id"] for voice in voices} == set(sim.state.voices)
    assert "sampleUrl" in voices[0]


async def test_videos_get_shows_one_video(sim: ArgilSimulator, use_sim, capsys):
    """`videos get ID` prints name/value lines, or the object with --json."""
    use_sim(sim)
    video_id = await make_video(sim, "Hello", {"team": "a"})
    assert await cli("videos", "get", video_id) == 0
    text = capsys.readouterr().out
    fields = dict(line.split(None, 1) for line in text.splitlines())
    assert (fields["id"], fields["status"], fields["extras"]) == (video_id, "IDLE", '{"team":"a"}')
    assert await cli("videos", "get", video_id, "--json") == 0
    assert json.loads(capsys.readouterr().out)["extras"] == {"team": "a"}


async def test_videos_list_filters_by_extras_and_limits(sim: ArgilSimulator, use_sim, capsys):
    """--extras KEY=VALUE filters through extrasFilter; --limit caps the count."""
    use_sim(sim)
    wanted = await make_video(sim, "A", {"team": "a"})
    await make_video(sim, "B", {"team": "b"})
    await make_video(sim, "C", {"team": "c"})
    assert await cli("videos", "list", "--extras", "team=a", "--json") == 0
    assert [v["id"] for v in json.loads(capsys.readouterr().out)] == [wanted]
    assert await cli("videos", "list", "--limit", "2") == 0
    assert len(capsys.readouterr().out.splitlines()) == 3


async def test_an_api_error_exits_1_with_the_message(sim: ArgilSimulator, use_sim, capsys):
    """An unknown video id: exit 1, the 404 on stderr, nothing on stdout."""
    use_sim(sim)
    assert await cli("videos", "get", "no-such-video") == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: 404")
    assert captured.out == ""


async def test_without_a_key_the_first_line_names_the_simulator(
    monkeypatch: pytest.MonkeyPatch, capsys
):
    """No ARGIL_API_KEY at a terminal: the embedded simulator, announced on stdout (stderr
    with --json)."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    monkeypatch.delenv("ARGIL_BASE_URL", raising=False)
    monkeypatch.setattr("argil_async._cli._session.on_terminal", lambda: True)
    assert await cli("avatars", "list") == 0
    out = capsys.readouterr().out
    assert out.startswith("No ARGIL_API_KEY set: running against the embedded simulator at")
    assert await cli("avatars", "list", "--json") == 0
    captured = capsys.readouterr()
    assert len(json.loads(captured.out)) == 4
    assert captured.err.startswith("No ARGIL_API_KEY set")


def test_an_extras_filter_without_a_value_is_a_usage_error(capsys):
    """`--extras team` (no `=`) exits 2 before anything runs, instead of matching team=""."""
    with pytest.raises(SystemExit) as caught:
        main(["videos", "list", "--extras", "team"])
    assert caught.value.code == 2
    assert "expected KEY=VALUE" in capsys.readouterr().err

"""The CLI never passes the simulator's data off as real, and its exit codes gate pipelines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import cli, write_jobs

from argil_async.testing import ArgilSimulator

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "batch_jobs.jsonl"

API_COMMANDS = [
    ("avatars", "list", "--json"),
    ("voices", "list"),
    ("videos", "list"),
    ("videos", "get", "some-id"),
    ("videos", "download", "some-id"),
    ("batch", "check", str(SAMPLE), "--online"),
    ("batch", "estimate", str(SAMPLE), "--online"),
    ("batch", "download", "results.jsonl", "--to", "videos"),
]


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """No ARGIL_API_KEY, and (as under cron or CI) no terminal."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    monkeypatch.delenv("ARGIL_BASE_URL", raising=False)
    monkeypatch.setattr("argil_async._cli._session.on_terminal", lambda: False)


@pytest.mark.parametrize("argv", API_COMMANDS, ids=lambda argv: " ".join(argv[:2]))
async def test_every_api_command_refuses_without_a_key(no_key, argv, tmp_path, capsys, monkeypatch):
    """Without a key, --simulate or a terminal: exit 2, --simulate named, stdout empty."""
    monkeypatch.chdir(tmp_path)
    assert await cli(*argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "ARGIL_API_KEY is not set" in captured.err
    assert "--simulate" in captured.err
    assert "embedded simulator at" not in captured.err


async def test_simulate_says_so_and_keeps_stdout_for_the_data(no_key, capsys):
    """--simulate runs on the embedded simulator, announced on stderr with --json."""
    assert await cli("avatars", "list", "--json", "--simulate") == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("--simulate: running against the embedded simulator")
    assert isinstance(json.loads(captured.out), list)


async def test_check_online_with_simulate_checks_the_announced_simulator(no_key, capsys):
    """`batch check --online --simulate` looks the names up in the (announced) simulator,
    which has none of the sample's avatars: exit 2, after the notice."""
    code = await cli("batch", "check", str(SAMPLE), "--online", "--simulate")
    out = capsys.readouterr().out
    assert out.startswith("--simulate: running against the embedded simulator")
    assert "no avatar has this id or name" in out
    assert code == 2


async def test_status_exit_codes_gate_a_pipeline(sim: ArgilSimulator, use_sim, tmp_path, capsys):
    """`batch status`: 0 all done, 1 all finished with failures, 3 unfinished (with --json too)."""
    use_sim(sim)
    done = tmp_path / "done.jsonl"
    quiet = ("--progress", "off", "--concurrency", "1")
    jobs = write_jobs(sim, tmp_path / "ok.jsonl", 2)
    assert await cli("batch", "run", str(jobs), "--out", str(done), *quiet) == 0
    assert await cli("batch", "status", str(done)) == 0
    assert await cli("batch", "status", str(done), "--json") == 0

    failed = tmp_path / "failed.jsonl"
    jobs = write_jobs(sim, tmp_path / "bad.jsonl", 2, failing=frozenset({1}))
    assert await cli("batch", "run", str(jobs), "--out", str(failed), *quiet) == 1
    assert await cli("batch", "status", str(failed)) == 1
    assert await cli("batch", "status", str(failed), "--json") == 1

    stopped = tmp_path / "stopped.jsonl"
    jobs = write_jobs(sim, tmp_path / "stop.jsonl", 4, failing=frozenset({0}))
    assert (
        await cli("batch", "run", str(jobs), "--out", str(stopped), "--max-failures", "1", *quiet)
        == 1
    )
    capsys.readouterr()
    assert await cli("batch", "status", str(stopped)) == 3
    assert "unfinished: 3" in capsys.readouterr().out
    assert await cli("batch", "status", str(stopped), "--json") == 3
    assert len(json.loads(capsys.readouterr().out)["unfinished"]) == 3


async def test_download_refuses_a_batch_made_on_another_endpoint(
    sim_factory, use_sim, tmp_path, capsys
):
    """A results file made on one API is refused by `batch download` on another: no request."""
    first, second = await sim_factory(), await sim_factory()
    use_sim(first)
    jobs = write_jobs(first, tmp_path / "jobs.jsonl", 3)
    out = tmp_path / "res.jsonl"
    assert await cli("batch", "run", str(jobs), "--out", str(out), "--progress", "off") == 0
    use_sim(second)
    before = second.stats.requests
    assert await cli("batch", "download", str(out), "--to", str(tmp_path / "videos")) == 2
    err = capsys.readouterr().err
    assert f"the batch was made on {first.base_url}, not {second.base_url}" in err
    assert second.stats.requests == before
    assert not (tmp_path / "videos").exists()


async def test_download_refuses_a_batch_made_on_the_embedded_simulator(
    sim: ArgilSimulator, use_sim, monkeypatch, tmp_path, capsys
):
    """A batch made with --simulate lived in a simulator that is gone: refused, no request."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    out = tmp_path / "res.jsonl"
    run = ("batch", "run", str(SAMPLE), "--out", str(out), "--simulate", "--progress", "off")
    assert await cli(*run) == 0
    use_sim(sim)
    before = sim.stats.requests
    assert await cli("batch", "download", str(out), "--to", str(tmp_path / "videos")) == 2
    assert (
        f"the batch was made on embedded-simulator, not {sim.base_url}" in capsys.readouterr().err
    )
    assert sim.stats.requests == before

"""`argil batch run|status|check`: exit codes, output, the embedded simulator, bad files."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from support.cli import cli, write_jobs

from argil_async._cli import main
from argil_async.testing import ArgilSimulator

SimFactory = Callable[..., Awaitable[ArgilSimulator]]
SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "batch_jobs.jsonl"


async def test_run_exits_0_and_prints_a_summary(sim: ArgilSimulator, use_sim, tmp_path, capsys):
    """All jobs DONE: exit 0, a one-line summary, one results line per job."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 6)
    out = tmp_path / "res.jsonl"
    code = await cli("batch", "run", str(jobs), "--out", str(out), "--concurrency", "3")
    assert code == 0
    assert "6 jobs: 6 done, 0 failed, in" in capsys.readouterr().out
    assert len(out.read_text().splitlines()) == 6


async def test_run_exits_1_when_a_job_fails_and_status_shows_it(
    sim: ArgilSimulator, use_sim, tmp_path, capsys
):
    """A failed job makes the exit code 1; `batch status` lists it with its error."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 4, failing=frozenset({1}))
    out = tmp_path / "res.jsonl"
    assert await cli("batch", "run", str(jobs), "--out", str(out), "--json") == 1
    summary = json.loads(capsys.readouterr().out)
    assert (summary["done"], summary["failed"], summary["ok"]) == (3, 1, False)
    assert await cli("batch", "status", str(out)) == 1  # finished, with a failure
    text = capsys.readouterr().out
    assert text.startswith("4 jobs: DONE 3, FAILED 1\nfailures by cause: FAILED 1")
    assert "k1" not in text  # a summary by default
    assert await cli("batch", "status", str(out), "--failed") == 1
    assert "line 2  k1  FAILED  " in capsys.readouterr().out
    assert await cli("batch", "status", str(out), "--json") == 1
    document = json.loads(capsys.readouterr().out)
    assert (document["failed"], document["causes"]) == (1, {"FAILED": 1})
    assert document["failures"][0]["key"] == "k1"
    assert document["failures"][0]["video_id"] is not None


async def test_a_bad_job_file_is_rejected_before_any_request(
    sim: ArgilSimulator, use_sim, tmp_path, capsys
):
    """Exit 2, every bad line on stderr, no request sent and no results file."""
    use_sim(sim)
    path = write_jobs(sim, tmp_path / "jobs.jsonl", 3)
    lines = path.read_text().splitlines()
    lines[1] = lines[1].replace('"Hi"', "42")
    path.write_text("\n".join([*lines, "{oops"]) + "\n")
    out = tmp_path / "res.jsonl"
    assert await cli("batch", "run", str(path), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "line 2: moments[0].transcript: Expected str" in err
    assert "line 4: $: invalid JSON" in err
    assert sim.stats.requests == 0
    assert not out.exists()
    assert await cli("batch", "check", str(path)) == 2


async def test_check_validates_without_sending(capsys):
    """`batch check` reports how many jobs are valid."""
    assert await cli("batch", "check", str(SAMPLE)) == 0
    assert "3 valid jobs" in capsys.readouterr().out


async def test_without_a_key_the_run_uses_the_embedded_simulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys
):
    """No ARGIL_API_KEY: the first line says so, the sample runs, a rerun starts afresh."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    monkeypatch.delenv("ARGIL_BASE_URL", raising=False)
    out = tmp_path / "res.jsonl"
    run = ("batch", "run", str(SAMPLE), "--out", str(out), "--simulate")
    assert await cli(*run, "--progress", "off") == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith("--simulate: running against the embedded simulator")
    assert await cli(*run, "--json") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["ok"] is True  # stdout is pure JSON
    assert captured.err.startswith("--simulate: running")
    assert "(discarded" in captured.err


async def test_without_a_key_or_a_terminal_the_run_refuses_the_simulator(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys
):
    """No ARGIL_API_KEY, no terminal, no --simulate: exit 2 naming both ways out, no file."""
    monkeypatch.delenv("ARGIL_API_KEY", raising=False)
    out = tmp_path / "res.jsonl"
    assert await cli("batch", "run", str(SAMPLE), "--out", str(out)) == 2
    err = capsys.readouterr().err
    assert "ARGIL_API_KEY" in err
    assert "--simulate" in err
    assert not out.exists()
    assert not (tmp_path / ".argil-batch").exists()


async def test_status_of_an_unknown_path_exits_2(tmp_path, capsys):
    """`batch status` on a path with no results and no journal is an error."""
    assert await cli("batch", "status", str(tmp_path / "nothing.jsonl")) == 2
    assert "must be a results file or its journal; neither exists" in capsys.readouterr().err


async def test_polling_flag_renders_without_callbacks(
    sim: ArgilSimulator, use_sim, tmp_path, capsys
):
    """--poll sends renders with no callback URL."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    out = tmp_path / "res.jsonl"
    args = ["batch", "run", str(jobs), "--out", str(out), "--poll", "--poll-interval", "0.05"]
    assert await cli(*args, "--json") == 0
    assert json.loads(capsys.readouterr().out)["callbacks"] is False
    assert not sim.deliveries


async def test_a_receiver_nobody_can_reach_exits_2(sim: ArgilSimulator, use_sim, tmp_path, capsys):
    """--callback-host on all interfaces without --public-url is refused before any request."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 1)
    args = ["batch", "run", str(jobs), "--out", str(tmp_path / "r.jsonl")]
    assert await cli(*args, "--callback-host", "0.0.0.0") == 2
    assert "callback.public_url: must be set" in capsys.readouterr().err
    assert sim.stats.requests == 0


async def test_results_path_equal_to_the_job_file_is_refused(
    sim: ArgilSimulator, use_sim, tmp_path, capsys
):
    """`--out JOBS` would overwrite the job file with results: exit 2, nothing sent or written."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    before = jobs.read_text()
    assert await cli("batch", "run", str(jobs), "--out", str(tmp_path / "." / "jobs.jsonl")) == 2
    assert "the job file" in capsys.readouterr().err
    assert (jobs.read_text(), sim.stats.requests) == (before, 0)


async def test_options_out_of_range_exit_2_before_any_request(
    sim: ArgilSimulator, use_sim, tmp_path, capsys
):
    """`--poll-interval 0` (every job would fail after its render) is refused up front."""
    use_sim(sim)
    jobs = write_jobs(sim, tmp_path / "jobs.jsonl", 2)
    args = ["batch", "run", str(jobs), "--out", str(tmp_path / "r.jsonl"), "--poll"]
    assert await cli(*args, "--poll-interval", "0") == 2
    assert "poll_interval: must be greater than 0" in capsys.readouterr().err
    assert await cli(*args, "--retries", "-1") == 2
    assert sim.stats.requests == 0


@pytest.mark.parametrize("command", ["batch", "run", "status"])
def test_help_lists_the_csv_columns_results_fields_and_exit_codes(command: str, capsys):
    """`argil batch [run|status] --help` documents the job file, results and exit codes."""
    argv = ["batch", "--help"] if command == "batch" else ["batch", command, "--help"]
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out = capsys.readouterr().out
    assert exited.value.code == 0
    assert "musicAssetId,musicVolume,extras.<name>" in out
    assert "cause (FAILED, CONTENT_MODERATED" in out
    assert "130 interrupted" in out

"""Progress: counts per state, rate and ETA; rich on a terminal, log lines otherwise."""

from __future__ import annotations

import io
import logging

import anyio
import pytest

from argil_async import InvalidRequestError
from argil_async.batch._progress import Tracker, check_mode, show_progress


class FakeTerminal(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


def test_tracker_counts_moves_and_describes_them():
    """Moves update the counts; the line shows finished, outcomes and unfinished states."""
    tracker = Tracker({"PENDING": 3, "DONE": 1})
    tracker.move("PENDING", "CREATING")
    tracker.move("PENDING", "FAILED")
    line = tracker.line()
    assert line.startswith("batch: 2/4 finished (1 done, 1 failed) | ")
    assert "PENDING 1, CREATING 1" in line
    assert "jobs/s | ETA" in line


def test_rate_and_eta_count_only_this_run():
    """Jobs finished before the run do not inflate the rate; no ETA before the first one."""
    tracker = Tracker({"DONE": 10, "PENDING": 2})
    assert (tracker.rate(), tracker.eta()) == (0.0, None)
    tracker.started -= 2.0
    tracker.move("PENDING", "DONE")
    assert tracker.rate() == pytest.approx(0.5, rel=0.1)
    assert tracker.eta() == pytest.approx(2.0, rel=0.1)


async def test_log_mode_logs_periodically_and_at_the_end(caplog: pytest.LogCaptureFixture):
    """Without a terminal, 'auto' logs a progress line every interval and a final one."""
    caplog.set_level(logging.INFO, logger="argil_async.batch")
    tracker = Tracker({"PENDING": 1})
    async with show_progress(tracker, "auto", stream=io.StringIO(), interval=0.01):
        tracker.move("PENDING", "DONE")
        await anyio.sleep(0.05)
    lines = [r.getMessage() for r in caplog.records if r.name == "argil_async.batch"]
    assert len(lines) >= 2
    assert lines[-1].startswith("batch: 1/1 finished (1 done, 0 failed)")


async def test_rich_mode_draws_on_a_terminal():
    """On a terminal with rich installed, 'auto' draws a rich progress bar."""
    pytest.importorskip("rich")
    stream = FakeTerminal()
    tracker = Tracker({"PENDING": 2})
    async with show_progress(tracker, "auto", stream=stream):
        tracker.move("PENDING", "DONE")
    assert "1/2" in stream.getvalue()
    assert "1 done, 0 failed" in stream.getvalue()


async def test_off_shows_nothing_and_unknown_modes_are_refused(caplog: pytest.LogCaptureFixture):
    """'off' is silent; an unknown mode raises InvalidRequestError."""
    caplog.set_level(logging.INFO, logger="argil_async.batch")
    async with show_progress(Tracker({"PENDING": 1}), "off", interval=0.001):
        pass
    assert not caplog.records
    with pytest.raises(InvalidRequestError):
        async with show_progress(Tracker({}), "fancy"):
            pass


def test_jobs_timed_out_earlier_do_not_make_the_rate_negative():
    """A resumed TIMED_OUT job leaves the finished states, then finishes: the rate stays >= 0."""
    tracker = Tracker({"TIMED_OUT": 2, "DONE": 1})
    tracker.started -= 1.0
    tracker.move("TIMED_OUT", "RENDER_SENT")
    tracker.move("TIMED_OUT", "RENDER_SENT")
    assert (tracker.rate(), tracker.eta()) == (0.0, None)
    tracker.move("RENDER_SENT", "DONE")
    assert tracker.rate() == pytest.approx(1.0, rel=0.1)


async def test_the_display_goes_to_stderr_leaving_stdout_to_results(
    monkeypatch: pytest.MonkeyPatch,
):
    """With no stream given, the live display draws on stderr, so `--json` stdout stays JSON."""
    pytest.importorskip("rich")
    out, err = FakeTerminal(), FakeTerminal()
    monkeypatch.setattr("sys.stdout", out)
    monkeypatch.setattr("sys.stderr", err)
    tracker = Tracker({"PENDING": 2})
    async with show_progress(tracker, "auto"):
        tracker.move("PENDING", "DONE")
    assert (out.getvalue(), "1/2" in err.getvalue()) == ("", True)


def test_rich_mode_without_rich_is_refused_up_front(monkeypatch: pytest.MonkeyPatch):
    """Forcing 'rich' when it is not installed is an InvalidRequestError, before any request."""
    monkeypatch.setattr("argil_async.batch._progress._rich_available", lambda: False)
    with pytest.raises(InvalidRequestError, match=r"argil-async\[progress\]"):
        check_mode("rich")

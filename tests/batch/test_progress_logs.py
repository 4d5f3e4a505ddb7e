"""Log lines written while the rich progress bar is shown print above it, never through it."""

from __future__ import annotations

import io
import logging
import re

import anyio
import pytest

from argil_async.batch._progress import Tracker, show_progress

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeTerminal(io.StringIO):
    """A text stream that claims to be a terminal."""

    def isatty(self) -> bool:
        return True


async def test_a_log_line_under_the_bar_is_printed_whole_above_it():
    """A handler writing to the bar's stream is routed through the live console for the
    run (the line arrives whole, on a line of its own) and is put back afterwards."""
    pytest.importorskip("rich")
    stream = FakeTerminal()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("LOG %(message)s"))
    sdk = logging.getLogger("argil_async")
    sdk.addHandler(handler)
    previous = sdk.level
    sdk.setLevel(logging.WARNING)
    try:
        tracker = Tracker({"PENDING": 2})
        async with show_progress(tracker, "rich", stream=stream):
            await anyio.sleep(0.3)  # the bar is drawn
            logging.getLogger("argil_async").warning("retrying GET /videos after a 503")
            await anyio.sleep(0.3)
            tracker.move("PENDING", "DONE")
        assert handler.stream is stream  # put back
        logging.getLogger("argil_async").warning("after the bar")
    finally:
        sdk.removeHandler(handler)
        sdk.setLevel(previous)
    lines = [ANSI.sub("", line).strip() for line in re.split(r"[\r\n]", stream.getvalue())]
    assert "LOG retrying GET /videos after a 503" in lines
    assert not [line for line in lines if "ETA" in line and "LOG" in line]
    assert "LOG after the bar" in lines


async def test_handlers_on_other_streams_are_left_alone():
    """A handler writing elsewhere (a file, another stream) keeps its stream during the bar."""
    pytest.importorskip("rich")
    elsewhere = io.StringIO()
    handler = logging.StreamHandler(elsewhere)
    logging.getLogger("argil_async").addHandler(handler)
    try:
        async with show_progress(Tracker({"PENDING": 1}), "rich", stream=FakeTerminal()):
            assert handler.stream is elsewhere
    finally:
        logging.getLogger("argil_async").removeHandler(handler)

"""The hardening tests: print the input fuzzing's counts at the end of the session."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One ``fuzzing:`` line with cases tried, refusals, untyped errors and malformed sends."""
    from fuzz_seam import FAILURES, STATS, summary

    if STATS["cases"]:
        terminalreporter.write_line(f"fuzzing: {summary()}")
        for failure in FAILURES[:20]:
            terminalreporter.write_line(f"  {failure}")

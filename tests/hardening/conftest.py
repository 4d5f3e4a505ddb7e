"""The hardening tests: print the input and wire fuzzing's counts at the end of the session."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One ``fuzzing:`` line with cases tried, refusals, untyped errors and malformed sends."""
    from fuzz_seam import FAILURES, STATS, summary
    from test_wire_fuzz import WIRE_STATS

    if STATS["cases"]:
        terminalreporter.write_line(f"fuzzing: {summary()}")
        for failure in FAILURES[:20]:
            terminalreporter.write_line(f"  {failure}")
    if WIRE_STATS["cases"]:
        counts = ", ".join(f"{k}: {WIRE_STATS[k]}" for k in ("cases", "ok", "typed", "untyped"))
        terminalreporter.write_line(f"wire fuzzing (damaged responses): {counts}")

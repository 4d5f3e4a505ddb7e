"""What the ``argil`` commands share: a client (or the embedded simulator), output, errors.

With ``ARGIL_API_KEY`` set, commands talk to the API (``ARGIL_BASE_URL`` or the public one).
Without it a command that talks to the API runs against the embedded simulator only when told
(``--simulate``) or when a person is at a terminal, and says so on the first line: on stdout,
or on stderr with ``--json`` so that stdout stays one JSON document. Anywhere else (a cron job,
a pipeline) it refuses with exit 2 (`NoKeyError`): fake data never passes for real.
``argil demo`` alone always may use the simulator: showing the workflow is its job.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TextIO

import msgspec

from .._client import AsyncArgil

if TYPE_CHECKING:
    from ..testing import ArgilSimulator

__all__ = [
    "EMBEDDED",
    "NO_KEY_MESSAGE",
    "NoKeyError",
    "Session",
    "api_session",
    "on_terminal",
    "print_json",
    "print_table",
]

#: The endpoint a batch made on the embedded simulator records (its videos die with it).
EMBEDDED = "embedded-simulator"
NO_KEY_MESSAGE = (
    "error: ARGIL_API_KEY is not set, and this is not a terminal: nothing was sent.\n"
    "  Set ARGIL_API_KEY to talk to Argil, or pass --simulate to use the embedded simulator "
    "(its data is not real)."
)
SIMULATOR_NOTICE = "No ARGIL_API_KEY set: running against the embedded simulator at {url}."
SIMULATE_NOTICE = "--simulate: running against the embedded simulator at {url}."


class NoKeyError(Exception):
    """No ARGIL_API_KEY, no ``--simulate`` and no terminal: the command exits 2, sending nothing."""

    def __init__(self) -> None:
        super().__init__(NO_KEY_MESSAGE)


def on_terminal() -> bool:
    """True when a person can answer a question (stdin and stderr are a terminal)."""
    return sys.stdin.isatty() and sys.stderr.isatty()


def may_simulate(simulate: bool) -> bool:
    """Whether a command may run: a key, ``--simulate``, or a person at a terminal."""
    return bool(os.environ.get("ARGIL_API_KEY")) or simulate or on_terminal()


@dataclass
class Session:
    """A client for one command, and the simulator behind it when there is no key."""

    client: AsyncArgil
    simulator: ArgilSimulator | None = None


@contextlib.asynccontextmanager
async def api_session(
    *,
    json_output: bool,
    notice_detail: str = "",
    simulator_config: dict[str, Any] | None = None,
    prepare: Callable[[ArgilSimulator], None] | None = None,
    simulate: bool = False,
    stream: TextIO | None = None,
    demo: bool = False,
) -> AsyncIterator[Session]:
    """The API when ARGIL_API_KEY is set (and not ``simulate``), else a fresh embedded
    simulator (announced on the first line), when `may_simulate()` (or ``demo``) allows:
    `NoKeyError` otherwise.

    ``prepare`` may seed the simulator once it is announced, before the client is made. The
    notice goes to ``stream`` when given (else stderr with JSON output, stdout otherwise).
    """
    if os.environ.get("ARGIL_API_KEY") and not simulate:
        async with AsyncArgil() as client:
            yield Session(client)
        return
    if not (demo or may_simulate(simulate)):
        raise NoKeyError
    from ..testing import ArgilSimulator

    async with ArgilSimulator(**(simulator_config or {})) as sim:
        text = SIMULATE_NOTICE if simulate else SIMULATOR_NOTICE
        notice = text.format(url=sim.base_url) + notice_detail
        default = sys.stderr if json_output else sys.stdout
        print(notice, file=stream or default, flush=True)
        if prepare is not None:
            prepare(sim)
        async with AsyncArgil(api_key=sim.api_key, base_url=sim.base_url) as client:
            yield Session(client, sim)


def print_json(value: Any, stream: TextIO | None = None) -> None:
    """Print ``value`` (models, dicts, lists, datetimes) as indented JSON."""
    text = msgspec.json.format(msgspec.json.encode(value), indent=2).decode()
    print(text, file=stream or sys.stdout)


def print_table(
    rows: list[dict[str, Any]], columns: list[str], stream: TextIO | None = None
) -> None:
    """Print ``rows`` as aligned columns under a header (``-`` for missing values)."""
    cells = [[_cell(row.get(column)) for column in columns] for row in rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    out = stream or sys.stdout
    for line in [columns, *cells]:
        padded = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        print("  ".join(padded).rstrip(), file=out)


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)

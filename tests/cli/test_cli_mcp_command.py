"""`argil mcp`'s start-up refusals, on every leg (the server itself: tests/agents/)."""

from __future__ import annotations

import os
import subprocess
import sys

from support.processes import REPO

NO_MCP = "import sys; sys.modules['mcp'] = None; from argil_async._cli import main; "


def run(code: str, *, key: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter, ARGIL_API_KEY set to ``key`` (or unset)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGIL_")}
    if key is not None:
        env["ARGIL_API_KEY"] = key
    return subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


def test_without_a_key_or_simulate_it_refuses_to_start():
    """No ARGIL_API_KEY and no --simulate: exit 2 with the reason, nothing on stdout."""
    done = run("import sys; from argil_async._cli import main; sys.exit(main(['mcp']))")
    assert done.returncode == 2
    assert "ARGIL_API_KEY" in done.stderr
    assert "--simulate" in done.stderr
    assert done.stdout == ""


def test_without_the_mcp_package_it_says_which_extra_to_install():
    """The `mcp` package missing: exit 2 naming the [mcp] extra (the rest of the CLI works)."""
    done = run(NO_MCP + "sys.exit(main(['mcp', '--simulate']))")
    assert done.returncode == 2
    assert 'pip install "argil-async[mcp]"' in done.stderr
    assert done.stdout == ""
    helped = run(NO_MCP + "main(['mcp', '--help'])", key="k")
    assert "--max-credits" in helped.stdout

"""`argil mcp` driven as an agent drives it: the `mcp` package's own client over stdio (and
streamable HTTP), the server in its own process, the simulator in a third one.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from support.processes import REPO, SimulatorProcess, require, simulator_process, stop

from argil_async.testing import SimulatorCounters

require("mcp")
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402

SECRET = "sk-argil-mcp-test-7c1d2e9f"  # the API key the server reads, never to be seen again
TOOLS = {
    "list_avatars", "list_voices", "list_videos", "get_video", "create_video", "estimate_video",
    "render_video", "make_video", "wait_for_video", "export_subtitles", "upload_asset",
}  # fmt: skip
SCRIPT = "Hello from an agent. This video was asked for over MCP and paid for once."


class Agent:
    """An MCP client session that keeps every text it was given (to look for the key)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.seen: list[str] = []
        self.calls = 0

    async def call(self, tool: str, **arguments: Any) -> tuple[bool, str]:
        """Call a tool; (is_error, its text)."""
        self.calls += 1
        result = await self.client.call_tool(tool, arguments)
        text = "".join(getattr(part, "text", "") for part in result.content)
        self.seen.append(text)
        return bool(result.is_error), text

    async def ok(self, tool: str, **arguments: Any) -> Any:
        """Call a tool that must succeed; its JSON result."""
        failed, text = await self.call(tool, **arguments)
        assert not failed, text
        return json.loads(text)


@asynccontextmanager
async def agent(*flags: str, env: dict[str, str], errlog: Path) -> AsyncIterator[Agent]:
    """`python -m argil_async mcp FLAGS` over stdio, its stderr (logs) in ``errlog``."""
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "argil_async", "mcp", *flags], env=env, cwd=REPO
    )
    with errlog.open("w") as log:
        async with Client(stdio_client(params, errlog=log)) as client:
            yield Agent(client)


def server_env(sim: SimulatorProcess | None = None) -> dict[str, str]:
    """The server's environment: the simulator's URL and the secret key, or no key at all."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGIL_")}
    if sim is not None:
        env |= {"ARGIL_BASE_URL": sim.base_url, "ARGIL_API_KEY": sim.api_key}
    return env


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_agent_makes_a_video_within_budget_once_and_never_sees_the_key(tmp_path: Path):
    """Tools listed; make_video within budget; refused above it; a retry pays nothing."""
    log = tmp_path / "server.log"
    with simulator_process("--api-key", SECRET) as sim:
        async with agent(env=server_env(sim), errlog=log) as probe:  # no --max-credits
            tools = await probe.client.list_tools()
            assert {tool.name for tool in tools.tools} == TOOLS
            avatar = (await probe.ok("list_avatars"))[0]["id"]
            estimate = await probe.ok("estimate_video", script=SCRIPT, avatar_id=avatar)
            credits = estimate["credits"]
            draft = await probe.ok("create_video", name="Draft", script=SCRIPT, avatar_id=avatar)
            failed, text = await probe.call("render_video", video_id=draft["id"])
            assert failed
            assert "--max-credits" in text
        budget = credits + credits // 2  # room for one video, not two
        async with agent("--max-credits", str(budget), env=server_env(sim), errlog=log) as bot:
            first = await bot.ok(
                "make_video", name="Agent video", idempotency_key="agent-1", script=SCRIPT,
                avatar_id=avatar, wait_seconds=60,
            )  # fmt: skip
            assert first["done"]
            assert first["video"]["status"] == "DONE"
            failed, refusal = await bot.call(
                "make_video", name="Too much", idempotency_key="agent-2", script=SCRIPT,
                avatar_id=avatar,
            )  # fmt: skip
            assert failed
            assert f"estimated at {credits} credits" in refusal
            assert f"only {budget - credits:g} of the session's {budget:g} credits" in refusal
            again = await bot.ok(
                "make_video", name="Agent video", idempotency_key="agent-1", script=SCRIPT,
                avatar_id=avatar, wait_seconds=60,
            )  # fmt: skip
            assert again["video"]["id"] == first["video"]["id"]
            assert again["budget"]["spent"] == credits  # the retry was not charged
            waited = await bot.ok(
                "wait_for_video", video_id=first["video"]["id"], timeout_seconds=30
            )
            assert waited["done"]
            failed, too_long = await bot.call("wait_for_video", video_id="x", timeout_seconds=601)
            assert failed
            assert "600" in too_long
            failed, subtitles = await bot.call("export_subtitles", video_id=first["video"]["id"])
            assert not failed
            assert subtitles.startswith("WEBVTT")
            failed, missing = await bot.call("get_video", video_id="no-such-video")
            assert failed
            assert "NotFoundError" in missing
            assert "Video not found" in missing
            listed = await bot.ok("list_videos", limit=5)
            assert first["video"]["id"] in {video["id"] for video in listed}
        counters = SimulatorCounters.fetch(sim.base_url, sim.api_key)
    made = counters.by_idempotency_key
    assert set(made) == {"agent-1"}  # the refused call created nothing
    assert len(made["agent-1"].live) == 1
    assert made["agent-1"].renders == 1
    assert counters.renders == 1  # the draft was never rendered
    texts = [*probe.seen, *bot.seen, log.read_text()]
    assert not [text for text in texts if SECRET in text]
    print(
        f"mcp: {probe.calls + bot.calls} tool calls, estimate {credits} credits, budget {budget}, "
        f"videos for agent-1: {len(made['agent-1'].live)}, renders: {counters.renders}",
        file=sys.stderr,
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
async def test_simulate_serves_streamable_http_on_loopback(tmp_path: Path):
    """--http --simulate: an MCP client at http://127.0.0.1:PORT/mcp lists voices."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "argil_async", "mcp", "--simulate", "--http"]
    with (tmp_path / "server.log").open("w") as log:
        server = subprocess.Popen(
            [*command, "--port", str(port)], env=server_env(), cwd=REPO, stdout=log, stderr=log
        )
    try:
        for _ in range(200):
            with socket.socket() as attempt:
                if attempt.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert server.poll() is None, (tmp_path / "server.log").read_text()
            await asyncio.sleep(0.05)
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            session = Agent(client)
            voices = await session.ok("list_voices")
            asset = await session.ok(
                "upload_asset", name="logo", type="IMAGE", url="https://cdn.example.com/logo.png"
            )
            assert asset["status"] == "READY"
            assert voices
            assert all("id" in voice for voice in voices)
            failed, text = await session.call("make_video", name="x", idempotency_key="k")
            assert failed
            assert "moments" in text
    finally:
        stop(server)

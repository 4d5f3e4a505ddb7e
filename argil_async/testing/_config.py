"""Configuration and counters of the simulator.

`SimulatorConfig` is a mutable dataclass on purpose: a test may switch a fault on halfway through
(`sim.config.rate_limit_every = 2`) and the next request sees it. Defaults are fast, so a whole
render takes a fraction of a second.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(kw_only=True)
class SimulatorConfig:
    """Everything that shapes the simulator's behaviour; every field is keyword-only.

    Faults (`*_every`) count the authenticated API requests in scope (`fault_methods`,
    `fault_path_prefix`, a path relative to `/v1` such as "/videos") and fire on every Nth one.
    `drop_every` drops the connection after the handler ran: with `fault_methods={"POST"}` and
    `fault_path_prefix="/videos"`, a create or render lands but its answer is lost.
    `drop_download_after` (bytes) cuts a file download short; `stall_download_after` sends that
    many bytes, then nothing more (a stalled CDN) until the client hangs up.

    Webhook deliveries go to loopback hosts only unless `deliver_to_any_host` (the others are
    recorded in `sim.deliveries` as not sent). `webhook_signing_secret` (`whsec_<base64>`)
    signs them the Standard Webhooks way (`webhook-id`, `webhook-timestamp`,
    `webhook-signature`): every webhook created afterwards gets it as its `signing_secret`
    (change one with `sim.state.webhooks[id].signing_secret`), and render callbacks are signed
    with it. `duplicate_deliveries` sends each delivery twice with the same `webhook-id`, as a
    sender retrying after a lost answer would.
    """

    api_key: str = "sim-test-key"
    host: str = "127.0.0.1"
    port: int = 0
    avatar_training_time: float = 0.05
    asset_processing_time: float = 0.05
    render_audio_time: float = 0.05
    render_video_time: float = 0.05
    latency: float = 0.0
    rate_limit_every: int | None = None
    retry_after: float = 0
    server_error_every: int | None = None
    drop_every: int | None = None
    fault_methods: frozenset[str] | None = None
    fault_path_prefix: str | None = None
    max_processing_assets: int = 5
    strict_moments: bool = True
    max_extras: int = 10
    created_at_key: str = "createdAt"
    video_file_size: int = 65536
    drop_download_after: int | None = None
    stall_download_after: int | None = None
    allow_loopback_http_callbacks: bool = True
    webhook_timeout: float = 2.0  # under drain()'s 5 s, so drain() outlasts a silent receiver
    deliver_to_any_host: bool = False
    webhook_signing_secret: str | None = None
    duplicate_deliveries: bool = False
    video_outcome: Callable[[dict[str, Any]], str] | None = None


@dataclass
class SimulatorStats:
    """Counters a test can assert on, e.g. `sim.stats.by_route["POST /videos"] == 1`.

    `drops_by_route` and `server_errors_by_route` count the injected drops and 5xx per route,
    so a test can tell that a create was processed and its answer lost
    (`sim.stats.drops_by_route["POST /videos"] > 0`).
    """

    requests: int = 0
    by_route: Counter[str] = field(default_factory=Counter)
    injected_429: int = 0
    injected_5xx: int = 0
    injected_drops: int = 0
    drops_by_route: Counter[str] = field(default_factory=Counter)
    server_errors_by_route: Counter[str] = field(default_factory=Counter)
    max_processing_assets: int = 0
    asset_rate_limited: int = 0


FIELD_HELP: dict[str, str] = {
    "api_key": "the key clients must send in x-api-key",
    "host": "address to listen on",
    "port": "port to listen on; 0 picks a free one",
    "avatar_training_time": "seconds an avatar spends training (TRAINING -> IDLE)",
    "asset_processing_time": "seconds an uploaded asset stays PROCESSING",
    "render_audio_time": "seconds a render spends in GENERATING_AUDIO",
    "render_video_time": "seconds a render spends in GENERATING_VIDEO before DONE or failing",
    "latency": "seconds added before answering every API request",
    "rate_limit_every": "answer 429 to every Nth API request in scope (off when unset)",
    "retry_after": "the Retry-After header (seconds) of those 429s",
    "server_error_every": "answer 500/503 (alternately) to every Nth API request in scope",
    "drop_every": (
        "drop the connection after handling every Nth API request in scope "
        "(the request takes effect, its answer is lost)"
    ),
    "fault_methods": "comma-separated HTTP methods the faults apply to, e.g. POST; unset: all",
    "fault_path_prefix": (
        "path prefix under /v1 the faults apply to, e.g. /videos; unset: every path"
    ),
    "max_processing_assets": "assets PROCESSING at once before POST /assets answers 429",
    "strict_moments": (
        "require exactly one of transcript/audioUrl per moment "
        "(--no-strict-moments accepts both, as some clients send)"
    ),
    "max_extras": "most keys an extras object may hold",
    "created_at_key": "JSON key of creation times: createdAt, or createAt as some doc examples",
    "video_file_size": "bytes of each rendered video file served under /files/",
    "drop_download_after": "cut file downloads short after this many bytes",
    "stall_download_after": "send this many bytes of a file download, then nothing",
    "allow_loopback_http_callbacks": (
        "accept an http:// callbackUrl (render, avatar) on a loopback host (otherwise https only)"
    ),
    "webhook_timeout": "seconds to wait for a webhook receiver's answer",
    "deliver_to_any_host": (
        "deliver webhooks to non-loopback hosts too (off: recorded as not sent)"
    ),
    "webhook_signing_secret": ("whsec_<base64> secret: sign deliveries the Standard Webhooks way"),
    "duplicate_deliveries": "send every webhook delivery twice with the same webhook-id",
    "video_outcome": "(Python only) callable(video_json) -> final status of a render",
}
"""One line per ``SimulatorConfig`` field: the command line's ``--help`` and the reference."""

"""A local simulator of the Argil v1 REST API, for tests, examples and offline development.

    from argil_async.testing import ArgilSimulator

    async with ArgilSimulator() as sim:          # 127.0.0.1, a free port
        sim.base_url, sim.api_key                # "http://127.0.0.1:PORT/v1", "sim-test-key"
        sim.config.rate_limit_every = 3          # faults can change mid-test
        await sim.drain()                        # let timers and webhook deliveries finish

Outcomes are deterministic. Everything succeeds unless the input asks otherwise:

- a video whose ``extras`` hold ``"simOutcome": "FAILED"`` or ``"CONTENT_MODERATED"`` ends so
  (or ``SimulatorConfig.video_outcome(video_json) -> status`` decides);
- an avatar whose ``extras`` hold ``"simOutcome": "TRAINING_FAILED"`` or ``"REFUSED"`` ends so;
- an asset whose url contains ``sim_outcome=FAILED`` ends FAILED.

Files are served without auth under ``/files/``: ``videos/{id}.mp4``, ``videos/{id}.subtitled.mp4``,
``videos/{id}.moment-{i}.mp4`` (once DONE), ``assets/{id}`` (once READY), ``thumbnails/{id}.jpg``,
``avatars/{id}.jpg``, ``voices/{id}.mp3``, ``audio/{id}.{i}.mp3``, and the HTML ``previews/{id}``.

What happened is in ``sim.counters()`` (creates, renders per video, per job key and per
idempotency key, webhook deliveries and their answers); another process reads the same from
``GET /_sim/counters`` with ``SimulatorCounters.fetch(base_url, api_key)``.

Command line: ``python -m argil_async.testing --port 8080 [--api-key K] [--latency 0.1] ...``
(``--help`` explains every flag).

The simulator's records are ``SimVideo``, ``SimAvatar``... (the models are ``argil_async.Video``,
...). Unit tests that need no server at all pass ``AsyncArgil(transport=MockTransport(...))``:
it plays scripted answers (see [`MockTransport`][argil_async.testing.MockTransport] and
[`json_response()`][argil_async.testing.json_response]).
"""

import warnings
from typing import Any

from .._exports import rehome as _rehome
from ._config import SimulatorConfig as SimulatorConfig
from ._config import SimulatorStats as SimulatorStats
from ._counters import SimDeliveryOutcome as SimDeliveryOutcome
from ._counters import SimKeyTally as SimKeyTally
from ._counters import SimulatorCounters as SimulatorCounters
from ._counters import SimVideoTally as SimVideoTally
from ._mock import MockTransport as MockTransport
from ._mock import json_response as json_response
from ._records import Delivery as Delivery
from ._records import RecordedRequest as RecordedRequest
from ._records import SimAsset as SimAsset
from ._records import SimAvatar as SimAvatar
from ._records import SimSubtitleStyle as SimSubtitleStyle
from ._records import SimVideo as SimVideo
from ._records import SimVoice as SimVoice
from ._records import SimWebhook as SimWebhook
from ._runtime import ExchangeHook as ExchangeHook
from ._simulator import ArgilSimulator as ArgilSimulator
from ._state import WorkspaceState as WorkspaceState

__all__ = [
    "ArgilSimulator",
    "Delivery",
    "ExchangeHook",
    "MockTransport",
    "RecordedRequest",
    "SimAsset",
    "SimAvatar",
    "SimDeliveryOutcome",
    "SimKeyTally",
    "SimSubtitleStyle",
    "SimVideo",
    "SimVideoTally",
    "SimVoice",
    "SimWebhook",
    "SimulatorConfig",
    "SimulatorCounters",
    "SimulatorStats",
    "WorkspaceState",
    "json_response",
]

_rehome(__name__, globals())

_RENAMED = ("Asset", "Avatar", "SubtitleStyle", "Video", "Voice", "Webhook")


def __getattr__(name: str) -> Any:
    # v0.1 names, which clashed with argil_async.models: kept for a while, with a warning.
    if name in _RENAMED:
        warnings.warn(
            f"argil_async.testing.{name} is now Sim{name} (argil_async.{name} is the model)",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[f"Sim{name}"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

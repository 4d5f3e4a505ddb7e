"""A local simulator of the Argil v1 REST API, for tests, examples and offline development.

    from argil_async.testing import ArgilSimulator

    async with ArgilSimulator() as sim:          # 127.0.0.1, a free port
        sim.base_url, sim.api_key                # "http://127.0.0.1:PORT/v1", "sim-test-key"
        sim.config.rate_limit_every = 3          # faults can change mid-test
        await sim.drain()                        # let timers and webhook deliveries finish

Outcomes are deterministic. Everything succeeds unless the input asks otherwise:

- a video whose `extras` hold `"simOutcome": "FAILED"` or `"CONTENT_MODERATED"` ends so
  (or `SimulatorConfig.video_outcome(video_json) -> status` decides);
- an avatar whose `extras` hold `"simOutcome": "TRAINING_FAILED"` or `"REFUSED"` ends so;
- an asset whose url contains `sim_outcome=FAILED` ends FAILED.

Files are served without auth under `/files/`: `videos/{id}.mp4`, `videos/{id}.subtitled.mp4`,
`videos/{id}.moment-{i}.mp4` (once DONE), `assets/{id}` (once READY), `thumbnails/{id}.jpg`,
`avatars/{id}.jpg`, `voices/{id}.mp3`, `audio/{id}.{i}.mp3`, and the HTML `previews/{id}`.

Command line: `python -m argil_async.testing --port 8080 [--api-key K] [--latency 0.1] ...`.
"""

from ._config import SimulatorConfig as SimulatorConfig
from ._config import SimulatorStats as SimulatorStats
from ._records import Asset as Asset
from ._records import Avatar as Avatar
from ._records import Delivery as Delivery
from ._records import RecordedRequest as RecordedRequest
from ._records import SubtitleStyle as SubtitleStyle
from ._records import Video as Video
from ._records import Voice as Voice
from ._records import Webhook as Webhook
from ._runtime import ExchangeHook as ExchangeHook
from ._simulator import ArgilSimulator as ArgilSimulator
from ._state import WorkspaceState as WorkspaceState

__all__ = [
    "ArgilSimulator",
    "Asset",
    "Avatar",
    "Delivery",
    "ExchangeHook",
    "RecordedRequest",
    "SimulatorConfig",
    "SimulatorStats",
    "SubtitleStyle",
    "Video",
    "Voice",
    "Webhook",
    "WorkspaceState",
]

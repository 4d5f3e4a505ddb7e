"""Argil webhook events: typed payloads, a tolerant parser and a receiver for aiohttp.web.

Argil POSTs ``{"event": NAME, "data": {...}}`` to your callback URL when a render or an avatar
training ends. [`parse_event()`][argil_async.events.parse_event] turns such a body into one of the
`Event` types; [`WebhookReceiver`][argil_async.events.WebhookReceiver] authenticates deliveries
(Argil does not sign them, so a secret token travels in the callback URL's query string), answers
quickly and lets you wait for a result:

```python
from argil_async.events import VideoGenerationSucceeded, WebhookReceiver

receiver = WebhookReceiver()
async with receiver.serve(port=8080, public_base_url="https://hooks.example.com") as url:
    await client.videos.render(video.id, callback_url=url)
    event = await receiver.wait_for_video(video.id, timeout=900)
    if isinstance(event, VideoGenerationSucceeded):
        print(event.video_url)
```

Importing this package does not import ``aiohttp.web`` (the server side): ``WebhookReceiver``
(``_receiver``, ``_web``) loads it on first access. Payloads live in ``_payloads``, Standard
Webhooks signatures in ``_signatures``, the receiver's credentials in ``_auth``, the
de-duplication keys and stores in ``_dedup``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._polling import VideoEventSource as VideoEventSource
from ._dedup import DedupStore as DedupStore
from ._dedup import MemoryDedupStore as MemoryDedupStore
from ._dedup import RedisDedupStore as RedisDedupStore
from ._logfilter import RedactTokenFilter as RedactTokenFilter
from ._payloads import AvatarEvent as AvatarEvent
from ._payloads import AvatarTrainingFailed as AvatarTrainingFailed
from ._payloads import AvatarTrainingSucceeded as AvatarTrainingSucceeded
from ._payloads import Event as Event
from ._payloads import UnknownEvent as UnknownEvent
from ._payloads import VideoEvent as VideoEvent
from ._payloads import VideoGenerationFailed as VideoGenerationFailed
from ._payloads import VideoGenerationSucceeded as VideoGenerationSucceeded
from ._payloads import parse_event as parse_event
from ._signatures import verify_signature as verify_signature

if TYPE_CHECKING:
    from ._receiver import WebhookReceiver as WebhookReceiver

__all__ = [
    "AvatarEvent",
    "AvatarTrainingFailed",
    "AvatarTrainingSucceeded",
    "DedupStore",
    "Event",
    "MemoryDedupStore",
    "RedactTokenFilter",
    "RedisDedupStore",
    "UnknownEvent",
    "VideoEvent",
    "VideoEventSource",
    "VideoGenerationFailed",
    "VideoGenerationSucceeded",
    "WebhookReceiver",
    "parse_event",
    "verify_signature",
]


def __getattr__(name: str) -> Any:
    # WebhookReceiver needs aiohttp.web; load it only when someone asks for it.
    if name == "WebhookReceiver":
        from argil_async._exports import rehome

        from ._receiver import WebhookReceiver

        globals()[name] = WebhookReceiver  # loaded once; the next access skips __getattr__
        rehome(__name__, globals())
        return WebhookReceiver
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _rehome_loaded() -> None:
    """Report ``argil_async.events`` as the module of the classes loaded so far."""
    from argil_async._exports import rehome

    namespace = globals()
    rehome(__name__, {**namespace, "__all__": [n for n in __all__ if n in namespace]})


_rehome_loaded()

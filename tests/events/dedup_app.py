"""The ASGI app test_dedup runs under uvicorn with 2 workers: a receiver sharing a Redis store.

Every dispatch appends ``<pid> <event> <id>`` to ``DISPATCH_LOG`` (one short O_APPEND write per
line, so the workers' lines never mix).
"""

from __future__ import annotations

import os

from argil_async.events import Event, RedisDedupStore, WebhookReceiver

store = RedisDedupStore(os.environ["DEDUP_REDIS_URL"], prefix=os.environ["DEDUP_PREFIX"])
receiver = WebhookReceiver(dedup=store)  # token and signing secret from the environment


@receiver.on
def record(event: Event) -> None:
    """One line per dispatch."""
    subject = getattr(event, "video_id", None) or getattr(event, "avatar_id", "?")
    line = f"{os.getpid()} {event.event} {subject}\n".encode()
    fd = os.open(os.environ["DISPATCH_LOG"], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


app = receiver.asgi

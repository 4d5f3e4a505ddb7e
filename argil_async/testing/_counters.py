"""What happened on a simulator, for tests to assert on: creates, renders, webhook deliveries.

``Ledger`` is written by the handlers as things happen and never forgets a video (a deleted one
stays, marked deleted), so "this job key made one video, rendered once" holds even after cleanup.
``SimulatorCounters`` is an immutable snapshot of it, from ``sim.counters()`` in the same process
or ``GET /_sim/counters`` (the API key in ``x-api-key``) from any other, where
``SimulatorCounters.fetch(base_url, api_key)`` reads and decodes it.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterable

import msgspec

from .._paid import IDEMPOTENCY_EXTRA
from ._records import Delivery, SimVideo

JOB_KEY_EXTRA = "argilJobKey"  # argil_async.batch.JOB_KEY_EXTRA (the batch runner's mark)

COUNTERS_PATH = "/_sim/counters"


class SimVideoTally(msgspec.Struct, frozen=True, kw_only=True):
    """One video ever created: its keys, accepted renders, current status, whether deleted.

    ``job_key`` is the batch runner's ``extras["argilJobKey"]``; ``idempotency_key`` is
    ``videos.create(idempotency_key=)``'s ``extras["argilIdempotencyKey"]``. ``renders``
    counts the ``POST /videos/{id}/render`` calls that started a render (a refused one, for a
    video no longer IDLE, is in ``SimulatorCounters.renders_refused``).
    """

    id: str
    job_key: str | None
    idempotency_key: str | None
    renders: int
    status: str
    deleted: bool


class SimKeyTally(msgspec.Struct, frozen=True, kw_only=True):
    """The videos made under one job key or idempotency key: ids (creation order), renders.

    ``live`` is the ids not deleted; ``renders`` is the sum of their accepted renders.
    "Exactly one video, rendered once" reads ``len(t.live) == 1 and t.renders == 1``.
    """

    videos: list[str]
    live: list[str]
    renders: int


class SimDeliveryOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """One finished webhook POST: the event, where, the receiver's status or the error.

    ``resource_id`` is the payload's ``videoId`` (or ``avatarId``); ``status`` is None when no
    answer came (``error`` says why: refused, timed out, not a loopback host).
    """

    event: str
    url: str
    resource_id: str | None
    status: int | None
    error: str | None


class SimulatorCounters(msgspec.Struct, frozen=True, kw_only=True):
    """A snapshot of what a simulator did, from ``sim.counters()`` or ``GET /_sim/counters``.

    ``videos_created`` counts accepted ``POST /videos`` (201), ``renders`` accepted renders;
    ``videos`` has one tally per video ever created, ``by_job_key`` and ``by_idempotency_key``
    group them; ``deliveries`` lists the last 10,000 finished webhook and ``callbackUrl`` POSTs
    in completion order. Example, in a user's test:

    ```python
    counters = sim.counters()
    assert counters.by_job_key["welcome-42"].renders == 1
    assert [d.status for d in counters.deliveries] == [200]
    ```
    """

    videos_created: int
    videos_deleted: int
    renders: int
    renders_refused: int
    avatars_created: int
    voices_created: int
    assets_created: int
    videos: dict[str, SimVideoTally]
    by_job_key: dict[str, SimKeyTally]
    by_idempotency_key: dict[str, SimKeyTally]
    deliveries: list[SimDeliveryOutcome]

    def to_json(self) -> bytes:
        """The JSON ``GET /_sim/counters`` answers (snake_case keys, as these attributes)."""
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> SimulatorCounters:
        """Decode what ``GET /_sim/counters`` answered."""
        return msgspec.json.decode(data, type=cls)

    @classmethod
    def fetch(cls, base_url: str, api_key: str, *, timeout: float = 10.0) -> SimulatorCounters:
        """Read a simulator's counters over HTTP, from any process (a blocking call).

        ``base_url`` is the simulator's (``http://127.0.0.1:PORT/v1``, as printed by
        ``python -m argil_async.testing``) or its origin. Proxy settings are ignored: the
        simulator is local. Raises ``urllib.error.HTTPError`` (401: a wrong key) or
        ``urllib.error.URLError`` (unreachable).
        """
        origin = base_url.rstrip("/").removesuffix("/v1")
        request = urllib.request.Request(origin + COUNTERS_PATH, headers={"x-api-key": api_key})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                return cls.from_json(response.read())
        except urllib.error.HTTPError as exc:  # a 401 for a wrong key: keep no socket open
            exc.close()
            raise


class Ledger:
    """The simulator's running record; handlers call ``video_created``, ``render``..."""

    def __init__(self) -> None:
        self.videos: dict[str, _VideoEntry] = {}
        self.created: Counter[str] = Counter()
        self.renders_refused = 0

    def video_created(self, video: SimVideo) -> None:
        """A ``POST /videos`` answered 201."""
        self.created["videos"] += 1
        self.videos[video.id] = _VideoEntry(video)

    def video_deleted(self, video_id: str) -> None:
        """A ``DELETE /videos/{id}`` answered 200."""
        entry = self.videos.get(video_id)
        if entry is not None:
            entry.deleted = True

    def render(self, video_id: str, *, accepted: bool) -> None:
        """A render request for an existing video: started (accepted) or refused (not IDLE)."""
        entry = self.videos.get(video_id)
        if not accepted:
            self.renders_refused += 1
        elif entry is not None:
            entry.renders += 1

    def snapshot(self, deliveries: Iterable[Delivery]) -> SimulatorCounters:
        """The counters as of now (``deliveries`` is the runtime's bounded record)."""
        videos = {video_id: entry.tally() for video_id, entry in self.videos.items()}
        return SimulatorCounters(
            videos_created=self.created["videos"],
            videos_deleted=sum(1 for tally in videos.values() if tally.deleted),
            renders=sum(tally.renders for tally in videos.values()),
            renders_refused=self.renders_refused,
            avatars_created=self.created["avatars"],
            voices_created=self.created["voices"],
            assets_created=self.created["assets"],
            videos=videos,
            by_job_key=_group(videos.values(), "job_key"),
            by_idempotency_key=_group(videos.values(), "idempotency_key"),
            deliveries=[_outcome(delivery) for delivery in deliveries],
        )


class _VideoEntry:
    """The ledger's line for one video; the record itself gives the live status."""

    __slots__ = ("deleted", "renders", "video")

    def __init__(self, video: SimVideo) -> None:
        self.video = video
        self.renders = 0
        self.deleted = False

    def tally(self) -> SimVideoTally:
        extras = self.video.extras
        return SimVideoTally(
            id=self.video.id,
            job_key=extras.get(JOB_KEY_EXTRA),
            idempotency_key=extras.get(IDEMPOTENCY_EXTRA),
            renders=self.renders,
            status=self.video.status,
            deleted=self.deleted,
        )


def _group(tallies: Iterable[SimVideoTally], attribute: str) -> dict[str, SimKeyTally]:
    """Tallies grouped by one key attribute (videos without that key are left out)."""
    groups: dict[str, list[SimVideoTally]] = {}
    for tally in tallies:
        key = getattr(tally, attribute)
        if key is not None:
            groups.setdefault(key, []).append(tally)
    return {
        key: SimKeyTally(
            videos=[t.id for t in group],
            live=[t.id for t in group if not t.deleted],
            renders=sum(t.renders for t in group),
        )
        for key, group in groups.items()
    }


def _outcome(delivery: Delivery) -> SimDeliveryOutcome:
    data = delivery.payload.get("data")
    resource_id = None
    if isinstance(data, dict):
        found = data.get("videoId", data.get("avatarId"))
        resource_id = found if isinstance(found, str) else None
    return SimDeliveryOutcome(
        event=delivery.event,
        url=delivery.url,
        resource_id=resource_id,
        status=delivery.status,
        error=delivery.error,
    )

"""Known status values and event names, as sets for membership tests."""

from __future__ import annotations

__all__ = ["AVATAR_FAILED_STATUSES", "VIDEO_FAILED_STATUSES", "WEBHOOK_EVENTS"]

#: Avatar statuses that end training without a usable avatar.
AVATAR_FAILED_STATUSES = frozenset({"TRAINING_FAILED", "REFUSED"})
#: Video statuses that end a render without a video (CONTENT_MODERATED is undocumented).
VIDEO_FAILED_STATUSES = frozenset({"FAILED", "CONTENT_MODERATED", "REFUSED"})
#: The events a webhook can subscribe to.
WEBHOOK_EVENTS = frozenset(
    {
        "AVATAR_TRAINING_SUCCESS",
        "AVATAR_TRAINING_FAILED",
        "VIDEO_GENERATION_SUCCESS",
        "VIDEO_GENERATION_FAILED",
    }
)

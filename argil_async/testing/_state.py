"""The in-memory workspace behind the API, readable and writable from tests.

Everything lives in insertion-ordered dicts keyed by id, so "newest first" is simply reversed
insertion order and tests can do ``len(sim.state.videos)`` or look things up by id.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._records import SimAsset, SimAvatar, SimSubtitleStyle, SimVideo, SimVoice, SimWebhook
from ._seed import seed_workspace


class WorkspaceState:
    """One workspace: the stock resources from ``_seed.py`` plus whatever the API creates.

    Deleted assets move to ``deleted_assets`` (the API soft-deletes them and then answers 404).
    """

    def __init__(self, *, seed: bool = True) -> None:
        self.avatars: dict[str, SimAvatar] = {}
        self.voices: dict[str, SimVoice] = {}
        self.assets: dict[str, SimAsset] = {}
        self.deleted_assets: dict[str, SimAsset] = {}
        self.videos: dict[str, SimVideo] = {}
        self.webhooks: dict[str, SimWebhook] = {}
        self.subtitle_styles: dict[str, SimSubtitleStyle] = {}
        if seed:
            seed_workspace(self)

    def add_asset(
        self,
        *,
        name: str | None,
        type: str,
        status: str = "READY",
        source_url: str | None = None,
        system: bool = False,
    ) -> SimAsset:
        """Store an asset directly, bypassing the API and its processing limit (for seeding)."""
        asset = SimAsset(name=name, type=type, status=status, source_url=source_url, system=system)
        if status == "READY":
            mark_asset_ready(asset)
        self.assets[asset.id] = asset
        return asset

    def seed_assets(
        self, count: int, *, type: str = "IMAGE", status: str = "READY"
    ) -> list[SimAsset]:
        """Add ``count`` assets named "seed-0001"... at once, e.g. for pagination tests."""
        return [
            self.add_asset(name=f"seed-{i:04d}", type=type, status=status, source_url=None)
            for i in range(1, count + 1)
        ]

    def processing_assets(self) -> int:
        """How many assets are PROCESSING now: the number the 5-slot limit counts."""
        return sum(1 for asset in self.assets.values() if asset.status == "PROCESSING")

    def find_duplicate_asset(self, url: str, type: str) -> SimAsset | None:
        """The live asset uploaded from the same url with the same type, in any status."""
        for asset in self.assets.values():
            if asset.source_url == url and asset.type == type:
                return asset
        return None

    def videos_with_extras(self, **extras: str) -> list[SimVideo]:
        """Videos whose extras contain every given pair, oldest first."""
        return [v for v in self.videos.values() if _contains(v.extras, extras)]

    def newest_videos(self) -> Iterator[SimVideo]:
        """Videos, newest first (the order GET /videos lists them in)."""
        return reversed(list(self.videos.values()))


def mark_asset_ready(asset: SimAsset) -> None:
    """Give a READY asset its file and thumbnail paths (served by the simulator's file routes)."""
    asset.status = "READY"
    asset.file_path = f"/files/assets/{asset.id}"
    asset.thumbnail_path = f"/files/thumbnails/{asset.id}.jpg"


def _contains(extras: dict[str, str], wanted: dict[str, Any]) -> bool:
    """Exact key/value containment, the matching rule of ``extrasFilter``."""
    return all(key in extras and extras[key] == value for key, value in wanted.items())

"""Let any job file run on the embedded simulator: add the resources its jobs name.

A fresh simulator knows only its stock avatars, voices and music, under random ids, so the
ids in a job file written for a real workspace would all be refused. Before an offline run
(``argil batch run`` without ``ARGIL_API_KEY``) each unknown avatar becomes a copy of a stock
avatar under that id (with the gestures the jobs use), each unknown voice a stock voice, each
unknown asset a READY one, each unknown subtitle style a style.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from ..batch import Job
from ..models import Moment
from ..testing import ArgilSimulator, SimAsset, SimSubtitleStyle, SimVoice

__all__ = ["adopt_job_resources"]


def adopt_job_resources(sim: ArgilSimulator, jobs: Iterable[Job]) -> None:
    """Add to ``sim`` every avatar, voice, gesture, asset and style ``jobs`` name but it lacks."""
    for job in jobs:
        for moment in job.moments:
            _adopt_moment(sim, moment)
        if job.background_music is not None:
            _adopt_asset(sim, job.background_music.asset_id, "AUDIO")
        style = job.subtitles.style_id if job.subtitles is not None else None
        if style and style not in sim.state.subtitle_styles:
            sim.state.subtitle_styles[style] = SimSubtitleStyle(name=f"style {style}", id=style)


def _adopt_moment(sim: ArgilSimulator, moment: Moment) -> None:
    state = sim.state
    avatar_id = moment.avatar_id
    if avatar_id not in state.avatars:
        stock = next(a for a in state.avatars.values() if a.status == "IDLE")
        gestures = [dict(g) for g in stock.gestures]
        state.avatars[avatar_id] = dataclasses.replace(stock, id=avatar_id, gestures=gestures)
    slug = moment.gesture_slug
    gestures = state.avatars[avatar_id].gestures
    if slug and all(g["slug"] != slug for g in gestures):
        gestures.append({"label": slug, "slug": slug, "startFrame": 0})
    voice_id = moment.voice_id
    if voice_id and voice_id not in state.voices:
        state.voices[voice_id] = SimVoice(name=f"voice {voice_id}", id=voice_id)
    if moment.broll is not None and moment.broll.asset_id is not None:
        _adopt_asset(sim, moment.broll.asset_id, "IMAGE")


def _adopt_asset(sim: ArgilSimulator, asset_id: str, kind: str) -> None:
    if asset_id in sim.state.assets:
        return
    sim.state.assets[asset_id] = SimAsset(
        name=f"asset {asset_id}",
        type=kind,
        status="READY",
        id=asset_id,
        file_path=f"/files/assets/{asset_id}",
        thumbnail_path=f"/files/thumbnails/{asset_id}.jpg",
    )

"""The workspace every simulator starts with: stock avatars, voices, music and subtitle styles.

Enough variety for filters and pagination to mean something: both orientations and models among
the avatars, voices with and without language/gender, and 15 subtitle styles so the default page
size of 10 gives two pages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._records import SimAvatar, SimSubtitleStyle, SimVoice

if TYPE_CHECKING:
    from ._state import WorkspaceState

_VOICES = [
    ("Emma", "ENGLISH", "FEMALE"),
    ("James", "ENGLISH", "MALE"),
    ("Lucia", "SPANISH", "FEMALE"),
    ("Hugo", "FRENCH", "MALE"),
    ("Narrator", None, None),
    ("Sam", "GERMAN", None),
]

_AVATARS = [
    ("Ava", "Ava Stone", "ASPECT_RATIO_16_9", "ARGIL_V1"),
    ("Leo", "Leo Marsh", "ASPECT_RATIO_9_16", "ARGIL_ATOM"),
    ("Mia", "Mia Chen", "ASPECT_RATIO_16_9", "ARGIL_ATOM"),
    ("Noah", "Noah Diaz", "ASPECT_RATIO_9_16", "ARGIL_V1"),
]

_GESTURES = [("Wave", "wave"), ("Point right", "point-right"), ("Thumbs up", "thumbs-up")]

_MUSIC = ["Calm Piano", "Upbeat Pop", "Corporate Drive"]

_STYLE_NAMES = [
    "Classic", "Bold", "Karaoke", "Minimal", "Neon", "Typewriter", "Pop", "Shadow",
    "Outline", "Highlight", "Serif", "Comic", "Glow", "Mono", "Retro",
]  # fmt: skip


def seed_workspace(state: WorkspaceState) -> None:
    """Fill an empty workspace with the stock resources described in the module docstring."""
    voices = [SimVoice(name=n, language=lang, gender=g) for n, lang, g in _VOICES]
    for voice in voices:
        state.voices[voice.id] = voice
    for index, (name, actor, orientation, model) in enumerate(_AVATARS):
        avatar = _stock_avatar(name, actor, orientation, model, voices[index].id)
        state.avatars[avatar.id] = avatar
    for title in _MUSIC:
        state.add_asset(name=title, type="AUDIO", status="READY", system=True)
    for style_name in _STYLE_NAMES:
        style = SimSubtitleStyle(name=style_name)
        state.subtitle_styles[style.id] = style


def _stock_avatar(name: str, actor: str, orientation: str, model: str, voice_id: str) -> SimAvatar:
    """A public, ready-to-use avatar with a few gestures, sized for its orientation."""
    width, height = (1920, 1080) if orientation == "ASPECT_RATIO_16_9" else (1080, 1920)
    gestures = [
        {"label": label, "slug": slug, "startFrame": 48 * i}
        for i, (label, slug) in enumerate(_GESTURES)
    ]
    return SimAvatar(
        name=name,
        status="IDLE",
        orientation=orientation,
        model=model,
        visibility="public",
        voice_id=voice_id,
        actor_name=actor,
        gestures=gestures,
        width=width,
        height=height,
    )

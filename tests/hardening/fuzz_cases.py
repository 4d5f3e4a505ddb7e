"""Hypothesis strategies for the arguments of every public method, good and hostile mixed.

Each argument is drawn from ``maybe(good)``: mostly plausible values (including unknown
enumeration values, which must pass), otherwise junk of every JSON-ish and non-JSON type, lone
surrogates, NaN and infinities. Request pieces (``Moment``, ``Subtitles``...) are drawn as a
`Piece` and built at call time, as the model, a camelCase dict or a snake_case dict, so that a
model refusing its own arguments counts as an outcome of the call.
"""

from __future__ import annotations

import string
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from hypothesis import strategies as st

from argil_async import AutoBrolls, BackgroundMusic, Broll, Moment, Subtitles, Zoom
from argil_async._cli._demo import make_png
from argil_async._images import data_uri

FOLDER = Path(tempfile.mkdtemp(prefix="argil-fuzz-"))  # downloads and image files go here only
GOOD_PNG = make_png(1280, 720)
(FOLDER / "good.png").write_bytes(GOOD_PNG)
(FOLDER / "text.png").write_text("not an image")


@dataclass(frozen=True)
class Piece:
    """A request piece to build at call time: the model, or a dict with camel/snake keys."""

    cls: type[msgspec.Struct]
    fields: dict[str, Any]
    form: str

    def build(self) -> Any:
        """The piece as the caller would pass it (a model's constructor may refuse it)."""
        fields = {name: build(value) for name, value in self.fields.items()}
        if self.form == "model":
            return self.cls(**fields)
        if self.form == "snake":
            return fields
        return {_camel(name): value for name, value in fields.items()}


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


def build(value: Any) -> Any:
    """Build every Piece inside ``value`` (lists and dicts are walked)."""
    if isinstance(value, Piece):
        return value.build()
    if isinstance(value, list):
        return [build(item) for item in value]
    if isinstance(value, dict):
        return {key: build(item) for key, item in value.items()}
    return value


surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1)
any_text = st.text(st.characters(exclude_categories=()), max_size=12)
junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just(object()),
    surrogates.map(lambda s: "a" + s),
    any_text,
)


# One case in two draws no junk at all (the flag is shared by every argument of a case), so
# that calls with many arguments still reach the server often, not only their refusals.
_clean_case = st.shared(st.integers(0, 1), key="clean case")


def maybe(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """In a clean case ``good``; otherwise three draws in four from ``good``, one ``junk``."""
    mixed = st.one_of(good, good, good, junk)
    return _clean_case.flatmap(lambda clean: good if clean else mixed)


def choice(*known: str) -> st.SearchStrategy[Any]:
    """An enumeration: a known value, or any text (enumerations stay open)."""
    return maybe(st.one_of(st.sampled_from(known), st.text(max_size=10)))


ids = maybe(st.one_of(st.uuids().map(str), st.text(min_size=1, max_size=12)))
names = maybe(st.text(min_size=1, max_size=30))
texts = maybe(st.text(max_size=40))
hosts = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=8)
urls = maybe(
    st.one_of(
        hosts.map(lambda h: f"https://{h}.test/file.mp3"),
        st.sampled_from(
            [
                "http://127.0.0.1:9/x",
                "http://example.com/a",
                "ftp://x.test/a",
                "https://",
                "https://a b.test/",
                "https://x.test/\x00",
                "//x.test/a",
                "https://[::1/",
            ]
        ),
    )
)
numbers = maybe(st.one_of(st.floats(allow_nan=True), st.integers(-3, 5000)))
unit = maybe(st.one_of(st.floats(0, 1), st.floats(-1, 2), st.integers(-1, 2)))
seconds = maybe(st.one_of(st.floats(0.01, 2.0), st.floats(-1, 0), st.just(float("inf"))))
page_sizes = maybe(st.integers(-2, 120))
bools = maybe(st.booleans())
extras = maybe(st.dictionaries(st.text(max_size=6), maybe(st.text(max_size=6)), max_size=12))


def piece(cls: type[msgspec.Struct], required: dict[str, Any], optional: dict[str, Any]) -> Any:
    """A Piece of ``cls``: required fields always given to the model (a missing one is a
    plain TypeError of its constructor), any field may be missing from a dict."""
    form = st.sampled_from(["model", "camel", "snake"])
    every = st.fixed_dictionaries({}, optional={**required, **optional})
    fields = st.fixed_dictionaries(required, optional=optional)
    return form.flatmap(
        lambda f: (fields if f == "model" else every).map(lambda d: Piece(cls, d, f))
    )


zoom = piece(Zoom, {}, {"level": numbers})
broll = piece(Broll, {}, {"type": choice("UPLOAD"), "asset_id": ids, "zoom": maybe(zoom)})
moment = piece(
    Moment,
    {"avatar_id": ids},
    {
        "transcript": texts,
        "audio_url": urls,
        "voice_id": ids,
        "gesture_slug": texts,
        "zoom": maybe(zoom),
        "broll": maybe(broll),
        "layout": choice("NORMAL", "SPLIT_LEFT"),
    },
)
subtitles = piece(
    Subtitles,
    {},
    {
        "enable": bools,
        "style_id": ids,
        "position": choice("Top", "Middle", "Bottom"),
        "size": choice("Small", "Medium", "Large"),
    },
)
auto_brolls = piece(
    AutoBrolls,
    {"source": choice("GENERATION", "GOOGLE_IMAGES", "STOCKS_VIDEO", "AVATAR_ACTION")},
    {"intensity": choice("LOW", "MEDIUM", "HIGH"), "enable": bools, "layout": choice("FULLSCREEN")},
)
music = piece(BackgroundMusic, {"asset_id": ids}, {"volume": unit})
images = maybe(
    st.sampled_from(
        [
            GOOD_PNG,
            data_uri(GOOD_PNG),
            str(FOLDER / "good.png"),
            FOLDER / "good.png",
            make_png(1000, 1000),
            b"",
            b"GIF89a" + bytes(20),
            "data:image/png;base64,%%%",
            "data:image/png;base64,iVBORw0KGgo=",
            "",
            ".",
            str(FOLDER),
            str(FOLDER / "missing.png"),
            str(FOLDER / "text.png"),
            "a\x00b.png",
            str(FOLDER / "\ud800.png"),
        ]
    )
)
# Download targets: never junk text or bytes, which would name files in the current folder.
targets = st.one_of(
    st.sampled_from(
        [FOLDER, str(FOLDER / "v.mp4"), FOLDER / "missing" / "v.mp4", "", "a\x00b",
         str(FOLDER / "\ud800.mp4")]
    ),
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.just(object())),
)  # fmt: skip
events = maybe(
    st.lists(
        choice("VIDEO_GENERATION_SUCCESS", "VIDEO_GENERATION_FAILED", "AVATAR_TRAINING_SUCCESS"),
        max_size=3,
    )
)
settings = st.dictionaries(
    st.sampled_from(
        [
            "model_id",
            "voice_stability",
            "voice_similarity",
            "voice_style",
            "voice_speed",
            "speaker_boost",
            "language_boost",
            "emotion",
            "future_option",
        ]
    ),
    st.one_of(unit, bools, texts, numbers),
    max_size=4,
)


def call(required: dict[str, Any], optional: dict[str, Any] | None = None) -> Any:
    """The keyword arguments of one call."""
    return st.fixed_dictionaries(required, optional=optional or {})


PAGING = {"_page": maybe(st.integers(-1, 3)), "_limit": maybe(st.integers(-1, 5))}
WAIT = {"timeout": seconds, "poll_interval": seconds}

keys = maybe(st.text(max_size=20))
VIDEO = {"name": names, "moments": maybe(st.lists(maybe(moment), max_size=3))}
VIDEO_OPTIONAL = {
    "subtitles": maybe(subtitles),
    "aspect_ratio": choice("16:9", "9:16"),
    "auto_brolls": maybe(auto_brolls),
    "background_music": maybe(music),
    "extras": extras,
    "model": choice("ARGIL_V1", "ARGIL_ATOM"),
}

CASES: dict[str, Any] = {
    "assets.get": call({"id": ids}),
    "assets.list": call(
        {},
        {
            "type": maybe(st.one_of(choice("AUDIO", "IMAGE"), st.lists(choice("VIDEO")))),
            "status": choice("READY", "PROCESSING"),
            "page_size": page_sizes,
            **PAGING,
        },
    ),
    "assets.upload": call(
        {"name": names, "type": choice("IMAGE", "VIDEO", "AUDIO"), "url": urls},
        {"wait": bools, **WAIT},
    ),
    "assets.wait_until_ready": call({"id": ids}, WAIT),
    "assets.delete": call({"id": ids}),
    "avatars.create": call(
        {"name": names}, {"image_url": urls, "image": images, "voice_id": ids, "extras": extras}
    ),
    "avatars.create_from_video": call(
        {"name": names, "dataset_video_url": urls, "consent_video_url": urls}, {"extras": extras}
    ),
    "avatars.get": call({"id": ids}),
    "avatars.list": call(
        {},
        {
            "orientation": choice("ASPECT_RATIO_16_9"),
            "model": choice("ARGIL_V1"),
            "visibility": choice("public", "private"),
        },
    ),
    "avatars.wait_until_ready": call({"id": ids}, WAIT),
    "voices.get": call({"id": ids}),
    "voices.list": call({}, {"language": choice("FRENCH"), "gender": choice("MALE", "FEMALE")}),
    "voices.create": call({"name": names, "audio_url": urls, "_settings": settings}),
    "videos.create": call(VIDEO, {**VIDEO_OPTIONAL, "idempotency_key": keys}),
    "videos.generate": call(
        VIDEO,
        {
            **VIDEO_OPTIONAL,
            "idempotency_key": keys,
            "callback_url": urls,
            "receiver": maybe(st.none()),
            "on_created": maybe(st.one_of(st.none(), st.just(id))),
            "on_status": maybe(st.one_of(st.none(), st.just(repr))),
            **WAIT,
        },
    ),
    "videos.get": call({"id": ids}),
    "videos.list": call(
        {},
        {
            "name_search_query": texts,
            "avatar_id": ids,
            "voice_id": ids,
            "extras_filter": extras,
            "page_size": page_sizes,
            **PAGING,
        },
    ),
    "videos.delete": call({"id": ids}),
    "videos.render": call({"id": ids}, {"callback_url": urls}),
    "videos.wait_until_done": call({"id": ids}, {**WAIT, "receiver": maybe(st.none())}),
    "videos.download": call(
        {"id_or_video": ids, "path": targets}, {"subtitled": bools, "progress": maybe(st.none())}
    ),
    "subtitles.list": call({}, {"page_size": page_sizes, **PAGING}),
    "subtitles.export": call(
        {"video_id": ids}, {"format": choice("vtt", "ass"), "include_styling": bools}
    ),
    "webhooks.create": call({"callback_url": urls, "events": events}),
    "webhooks.list": call({}),
    "webhooks.update": call({"id": ids}, {"callback_url": urls, "events": events}),
    "webhooks.delete": call({"id": ids}),
}

WAITERS = {"assets.upload", "assets.wait_until_ready", "avatars.wait_until_ready"}
WAITERS |= {"videos.wait_until_done", "videos.generate"}

CONSTRUCTOR = call(
    {},
    {
        "api_key": maybe(st.text(string.ascii_letters + string.digits + "-_", min_size=1)),
        "base_url": maybe(
            st.sampled_from(["https://api.example.test/v1", "http://127.0.0.1:1/v1", "ftp://x"])
        ),
        "timeout": numbers,
        "max_retries": maybe(st.integers(-1, 5)),
        "asset_concurrency": maybe(st.integers(-1, 10)),
        "max_response_size": maybe(st.integers(-1, 10**9)),
        "proxy": maybe(st.sampled_from(["http://127.0.0.1:3128", "socks://x"])),
        "trust_env": bools,
        "trace_configs": maybe(st.just([])),
        "connector": maybe(st.none()),
        "asset_limiter": maybe(st.none()),
        "retry_policy": maybe(st.none()),
        "transport": maybe(st.none()),
    },
)

# Per-call options; extra_body is left out on purpose: it is the escape hatch that sends
# fields the SDK does not model, so what it holds is the caller's to answer for.
WAIT_OPTIONS = {
    "max_retries": maybe(st.integers(-1, 3)),
    "extra_headers": maybe(st.dictionaries(st.sampled_from(["X-Trace", "", "A\nB", "Ü"]), texts)),
    "extra_query": maybe(st.dictionaries(st.sampled_from(["debug", "trace"]), texts)),
}
OPTIONS = call({}, {"timeout": numbers, **WAIT_OPTIONS})


def _with_options(strategy: Any, options: Any) -> Any:
    """The method's keywords, and one time in four its per-call options (as ``_options``)."""
    drawn = st.one_of(st.just({}), st.just({}), st.just({}), options)
    return st.tuples(strategy, drawn).map(lambda t: {**t[0], "_options": t[1]} if t[1] else t[0])


# Every method also takes the per-call options (waiters and uploads have their own timeout).
CASES = {
    name: _with_options(strategy, call({}, WAIT_OPTIONS) if name in WAITERS else OPTIONS)
    for name, strategy in CASES.items()
}

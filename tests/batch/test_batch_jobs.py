"""Job files: JSONL and CSV parsing, validation with line numbers and fields, job helpers."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from argil_async import InvalidRequestError
from argil_async.batch import JOB_KEY_EXTRA, Job, JobFileError, estimate_cost, load_jobs
from argil_async.batch._jobs import BATCH_EXTRA, check_jobs, job_problems
from argil_async.models import BackgroundMusic, Broll, Moment, Subtitles, Zoom

AVATAR = "avatar-1"


def job(key: str = "k1", **fields: Any) -> dict[str, Any]:
    """A valid job dict, with ``fields`` overriding its parts."""
    base: dict[str, Any] = {
        "key": key,
        "name": f"video {key}",
        "moments": [{"avatarId": AVATAR, "transcript": "Hello!"}],
    }
    return {**base, **fields}


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    """Write rows (dicts, or raw strings for broken lines) as a JSONL file."""
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def problems_of(path: Path) -> set[tuple[int, str]]:
    """The (line, field) pairs that load_jobs reports for ``path``."""
    with pytest.raises(JobFileError) as caught:
        load_jobs(path)
    return {(problem.line, problem.field) for problem in caught.value.problems}


def test_valid_jsonl_loads_every_job_with_its_line(tmp_path: Path):
    """Each line becomes a Job that remembers its line; blank lines are skipped."""
    path = tmp_path / "jobs.jsonl"
    path.write_text(f"{json.dumps(job('a'))}\n\n{json.dumps(job('b', subtitles=True))}\n")
    jobs = load_jobs(path)
    assert [(j.key, j.line) for j in jobs] == [("a", 1), ("b", 3)]
    assert jobs[1].subtitles == Subtitles(enable=True)


def test_the_sample_job_file_is_valid():
    """examples/batch_jobs.jsonl loads without a problem."""
    sample = Path(__file__).resolve().parents[2] / "examples" / "batch_jobs.jsonl"
    assert len(load_jobs(sample)) >= 3


def test_every_bad_line_is_reported_with_its_line_and_field(tmp_path: Path):
    """One error lists all faults of the file, each with its line number and field."""
    path = write_jsonl(
        tmp_path / "jobs.jsonl",
        [
            job("ok"),
            "{not json",
            job("ok"),
            job("k4", moments=[{"avatarId": AVATAR, "transcript": "x", "zoom": {"level": 3}}]),
            job("k5", moments=[{"avatarId": AVATAR}]),
            job("k6", aspectRatio="4:3", colour="red"),
            job("k7", extras={JOB_KEY_EXTRA: "mine"}),
            job("k8", extras={f"e{i}": "v" for i in range(10)}),
            {"name": "no key", "moments": []},
            [1, 2],
        ],
    )
    assert problems_of(path) == {
        (2, "$"),
        (3, "key"),
        (4, "moments[0].zoom.level"),
        (5, "moments[0].transcript"),
        (6, "aspectRatio"),
        (6, "colour"),
        (7, f"extras.{JOB_KEY_EXTRA}"),
        (8, "extras"),
        (9, "key"),
        (9, "moments"),
        (10, "$"),
    }


def test_the_error_message_names_lines_and_says_nothing_was_sent(tmp_path: Path):
    """The message is readable: problem count, 'nothing was sent', one line per problem."""
    path = write_jsonl(tmp_path / "jobs.jsonl", [job("a"), job("a")])
    with pytest.raises(JobFileError) as caught:
        load_jobs(path)
    assert isinstance(caught.value, InvalidRequestError)
    assert "1 problem, nothing was sent" in str(caught.value)
    assert "line 2: key: duplicate of line 1" in str(caught.value)


def test_request_model_rules_apply_to_nested_pieces(tmp_path: Path):
    """Subtitles, music, auto B-rolls and B-roll go through the SDK's own request models."""
    path = write_jsonl(
        tmp_path / "jobs.jsonl",
        [
            job("a", subtitles={"enable": True, "colour": "red"}),
            job("b", backgroundMusic={"assetId": "m", "volume": 2}),
            job("c", autoBrolls={"intensity": "LOW"}),
            job("d", moments=[{"avatarId": AVATAR, "transcript": "x", "broll": {"assetId": 1}}]),
        ],
    )
    assert problems_of(path) == {
        (1, "subtitles.colour"),
        (2, "backgroundMusic.volume"),
        (3, "autoBrolls"),
        (4, "moments[0].broll.assetId"),
    }


def test_a_missing_or_empty_file_is_refused(tmp_path: Path):
    """No file, or a file without jobs, is a JobFileError too."""
    assert problems_of(tmp_path / "missing.jsonl") == {(0, "file")}
    assert problems_of(write_jsonl(tmp_path / "empty.jsonl", [""])) == {(0, "file")}


def test_csv_rows_become_single_moment_jobs(tmp_path: Path):
    """CSV columns map onto the moment, subtitles, music and extras; line numbers count."""
    path = tmp_path / "jobs.csv"
    path.write_text(
        "key,name,avatarId,transcript,subtitleStyleId,musicAssetId,musicVolume,extras.customer\n"
        f"a,Video A,{AVATAR},Hello A,style-1,music-1,0.3,ada\n"
        "\n"
        f'b,"Video, B",{AVATAR},"Hello ""B""",,,,\n',
        encoding="utf-8",
    )
    first, second = load_jobs(path)
    assert first.moments == (Moment(avatar_id=AVATAR, transcript="Hello A"),)
    assert first.subtitles == Subtitles(enable=True, style_id="style-1")
    assert first.background_music == BackgroundMusic(asset_id="music-1", volume=0.3)
    assert first.extras == {"customer": "ada"}
    assert (second.name, second.line, second.moments[0].transcript) == (
        "Video, B",
        4,
        'Hello "B"',
    )


def test_csv_problems_name_the_column(tmp_path: Path):
    """CSV faults are reported against the CSV column, not the job's inner field names."""
    path = tmp_path / "jobs.csv"
    path.write_text(
        "key,name,avatarId,transcript,musicVolume,brollUrl\n"
        f"a,A,{AVATAR},,0.5,\n"
        f"b,B,{AVATAR},Hi,loud,ftp://x\n",
        encoding="utf-8",
    )
    assert problems_of(path) == {
        (2, "transcript"),
        (2, "musicAssetId"),
        (3, "musicVolume"),
        (3, "musicAssetId"),
        (3, "brollUrl"),
    }


def test_csv_header_must_be_known_and_complete(tmp_path: Path):
    """Unknown columns and missing required columns are reported on line 1."""
    path = tmp_path / "jobs.csv"
    path.write_text("key,name,colour\na,A,red\n", encoding="utf-8")
    assert problems_of(path) == {(1, "colour"), (1, "avatarId")}


def test_broll_urls_are_uploaded_then_replaced_by_asset_ids():
    """A B-roll given by URL is listed for upload and sent as the uploaded asset's id."""
    moments = [
        {"avatarId": AVATAR, "transcript": "a", "broll": {"url": "https://x.test/a.mp4"}},
        {"avatarId": AVATAR, "transcript": "b", "broll": {"url": "https://x.test/b.png"}},
    ]
    built = Job.from_dict(job("a", moments=moments, subtitles=True))
    assert built.uploads() == [("https://x.test/a.mp4", "VIDEO"), ("https://x.test/b.png", "IMAGE")]
    args = built.create_arguments({"https://x.test/a.mp4": "asset-a", "https://x.test/b.png": "b"})
    assert args["moments"][0] == Moment(
        avatar_id=AVATAR, transcript="a", broll=Broll(asset_id="asset-a")
    )
    assert args["moments"][0].broll.type == "UPLOAD"
    assert args["subtitles"] == Subtitles(enable=True)
    assert args["extras"] == {JOB_KEY_EXTRA: "a"}


def test_a_moment_follows_the_moment_models_own_rule():
    """A transcript and an audioUrl together are refused offline, as Moment refuses them."""
    both = {"avatarId": AVATAR, "transcript": "Hi", "audioUrl": "https://x.test/a.mp3"}
    with pytest.raises(JobFileError) as caught:
        Job.from_dict(job(moments=[both]))
    with pytest.raises(InvalidRequestError) as direct:
        Moment(avatar_id=AVATAR, transcript="Hi", audio_url="https://x.test/a.mp3").check()
    (problem,) = caught.value.problems
    assert (problem.field, problem.rule) == (f"moments[0].{direct.value.field}", direct.value.rule)


def test_loaded_moments_are_the_models_a_caller_passes(tmp_path: Path):
    """A loaded job's moments, subtitles and music are the request models, equal to a caller's."""
    row = job("a", subtitles={"styleId": "s"}, backgroundMusic={"assetId": "m"})
    row["moments"][0]["zoom"] = {"level": 1.5}
    (loaded,) = load_jobs(write_jsonl(tmp_path / "jobs.jsonl", [row]))
    assert loaded.moments == (Moment(avatar_id=AVATAR, transcript="Hello!", zoom=Zoom(level=1.5)),)
    assert type(loaded.moments[0]) is Moment
    assert loaded.subtitles == Subtitles(style_id="s")
    assert loaded.background_music == BackgroundMusic(asset_id="m")
    assert loaded == Job.from_dict(row, line=1)


def test_a_job_built_in_code_with_models_or_dicts_is_checked_and_typed():
    """Job(...) with Moment objects or dicts passes check_jobs, which returns model-typed jobs."""
    typed = Job("a", "A", (Moment(avatar_id=AVATAR, transcript="Hi"),))
    loose = Job("b", "B", ({"avatarId": AVATAR, "transcript": "Hi"},))  # type: ignore[arg-type]
    checked = check_jobs([typed, loose])
    assert [j.moments for j in checked] == [typed.moments, typed.moments]
    with pytest.raises(JobFileError, match="moments"):
        check_jobs([Job("c", "C", "x")])  # type: ignore[arg-type]


def test_a_broll_cannot_have_both_a_url_and_an_asset_id():
    """url and assetId are exclusive on a B-roll."""
    broll = {"url": "https://x.test/a.png", "assetId": "a"}
    with pytest.raises(JobFileError) as caught:
        Job.from_dict(job(moments=[{"avatarId": AVATAR, "transcript": "x", "broll": broll}]))
    assert [p.field for p in caught.value.problems] == ["moments[0].broll"]


def test_fingerprint_follows_content_not_line():
    """The fingerprint changes with the job's content, not with its position in the file."""
    one = Job.from_dict(job("a"), line=1)
    assert one.fingerprint() == Job.from_dict(job("a"), line=7).fingerprint()
    assert one.fingerprint() != Job.from_dict(job("a", name="other")).fingerprint()
    assert Job.from_dict(one.to_dict()) == dataclasses.replace(one, line=0)


def test_public_names_are_sorted_and_resolvable():
    """argil_async.batch's __all__ is sorted (constants, classes, functions) and resolvable."""
    import argil_async.batch as batch

    def order(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[:1].isupper() else 2), name

    assert list(batch.__all__) == sorted(batch.__all__, key=order)
    assert all(hasattr(batch, name) for name in batch.__all__)


def test_unicode_line_separators_inside_json_strings_are_not_line_breaks(tmp_path: Path):
    """U+2028, U+2029 and NEL are valid raw in JSON strings: only newlines end a JSONL line."""
    text = "Hi\u2028there\u2029and\x85more \u00e9\u4e2d\U0001f600"
    rows = [job("a", moments=[{"avatarId": AVATAR, "transcript": text}]), job("b")]
    path = tmp_path / "jobs.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    first, second = load_jobs(path)
    assert (first.moments[0].transcript, second.line) == (text, 2)


def test_bom_and_crlf_are_accepted_in_both_formats(tmp_path: Path):
    """A UTF-8 BOM and CRLF line ends change neither the jobs nor their line numbers."""
    jsonl = tmp_path / "jobs.jsonl"
    jsonl.write_bytes(
        b"\xef\xbb\xbf" + f"{json.dumps(job('a'))}\r\n\r\n{json.dumps(job('b'))}\r\n".encode()
    )
    assert [(j.key, j.line) for j in load_jobs(jsonl)] == [("a", 1), ("b", 3)]
    csv_file = tmp_path / "jobs.csv"
    csv_file.write_bytes(b"\xef\xbb\xbfkey,name,avatarId,transcript\r\na,A,av,Hi\r\n")
    assert [(j.key, j.moments[0].transcript) for j in load_jobs(csv_file)] == [("a", "Hi")]


def test_a_csv_row_spanning_lines_is_reported_on_its_first_line(tmp_path: Path):
    """A quoted cell with newlines does not shift the line numbers of problems."""
    path = tmp_path / "jobs.csv"
    path.write_text(
        'key,name,avatarId,transcript,aspectRatio\na,A,av,"one\ntwo\nthree",4:3\n\nb,B,av,Hi,4:3\n',
        encoding="utf-8",
    )
    assert problems_of(path) == {(2, "aspectRatio"), (6, "aspectRatio")}


def test_a_csv_column_given_twice_is_refused(tmp_path: Path):
    """A repeated header column would silently drop one of its cells: it is reported."""
    path = tmp_path / "jobs.csv"
    path.write_text("key,name,avatarId,transcript,key\na,A,av,Hi,b\n", encoding="utf-8")
    assert problems_of(path) == {(1, "key")}


def test_a_large_job_file_is_loaded_whole(tmp_path: Path):
    """20,000 jobs load and validate, in file order (speed: benchmarks/bench_batch.py)."""
    rows = [job(f"k{i}", subtitles=True, extras={"n": str(i)}) for i in range(20_000)]
    path = write_jsonl(tmp_path / "jobs.jsonl", rows)
    jobs = check_jobs(load_jobs(path))
    assert [j.key for j in jobs[:2]] == ["k0", "k1"]
    assert (len(jobs), jobs[-1].line, jobs[-1].extras) == (20_000, 20_000, {"n": "19999"})


def test_a_null_or_scalar_jsonl_line_is_reported_not_skipped(tmp_path: Path):
    """`null` is valid JSON but no job: it is a problem on its line, like any other non-object."""
    path = write_jsonl(tmp_path / "jobs.jsonl", ["null", job("a"), "42"])
    assert problems_of(path) == {(1, "$"), (3, "$")}


def test_extras_leave_room_for_the_job_key_and_the_batch_id(tmp_path: Path):
    """Eight extras are accepted; a ninth, or a reserved name, is refused."""
    eight = {f"e{i}": "v" for i in range(8)}
    path = write_jsonl(
        tmp_path / "jobs.jsonl",
        [
            job("a", extras=eight),
            job("b", extras={**eight, "e8": "v"}),
            job("c", extras={BATCH_EXTRA: "x"}),
        ],
    )
    assert problems_of(path) == {(2, "extras"), (3, f"extras.{BATCH_EXTRA}")}


def _variants(seed: int) -> list[object]:
    """Job forms near the simple shape, valid and not, for the fast-path comparison."""
    import random

    rng = random.Random(seed)
    odd = [
        "",
        " ",
        "x" * 256,
        "x" * 257,
        None,
        5,
        True,
        "\u2028",
        "é",
        "\ud800",
        "\u00a0",
        "\x1c\t",
        "https://a.test/a.mp3",
    ]

    def text() -> object:
        return "ok" if rng.random() < 0.8 else rng.choice(odd)

    def maybe(chance: float) -> bool:
        return rng.random() < chance

    fields = ["transcript", "audioUrl", "voiceId", "gestureSlug", "layout"]
    forms: list[object] = []
    for _ in range(300):
        moment = {name: text() for name in rng.sample(fields, rng.randint(0, 5))}
        if maybe(0.9):
            moment["avatarId"] = text()
        if maybe(0.05):
            moment["zoom"] = {"level": rng.choice([0, 1.5, "x"])}
        raw: dict[str, object] = {"key": text(), "name": text()}
        raw["moments"] = [moment] if maybe(0.8) else rng.choice([[], None, [moment] * 2, "m"])
        extras = {f"e{i}": text() for i in range(rng.choice([0, 1, 8, 9]))}
        if maybe(0.1):
            extras["argilJobKey"] = "x"
        optional = {
            "extras": extras if maybe(0.8) else rng.choice([None, [], {"n": 5}]),
            "subtitles": rng.choice([True, False, None, "yes", {"enable": True}]),
            "aspectRatio": rng.choice(["16:9", "9:16", "4:3", None, 1]),
            "model": text(),
        }
        raw.update((name, value) for name, value in optional.items() if maybe(0.4))
        if maybe(0.05):
            raw["unknown"] = 1
        forms.append(raw)
    return forms


@pytest.mark.parametrize("seed", range(10))
def test_the_fast_path_never_accepts_what_the_full_check_refuses(seed: int):
    """fast_job(raw) accepts only what job_problems(raw) finds valid, and builds the same job,
    on 3,000 generated forms."""
    from argil_async.batch._jobs import fast_job

    accepted = 0
    for raw in _variants(seed):
        fast = fast_job(raw, 1)
        if fast is not None:
            accepted += 1
            assert job_problems(raw, 1) == [], raw
            assert fast == Job.from_dict(raw, line=1)  # type: ignore[arg-type]
    assert accepted > 0  # the comparison covered accepted forms too


def test_a_csv_damaged_deep_inside_is_refused_with_nothing_built(tmp_path: Path):
    """Invalid UTF-8 far into a CSV file (it is read as a stream) is a JobFileError."""
    path = tmp_path / "jobs.csv"
    rows = "".join(f"k{i},Name {i},{AVATAR},Hello {i}\n" for i in range(2000))
    path.write_bytes(b"key,name,avatarId,transcript\n" + rows.encode() + b"k-x,\xff\xfe,a,b\n")
    with pytest.raises(JobFileError) as caught:
        load_jobs(path)
    assert [(p.line, p.field) for p in caught.value.problems] == [(0, "file")]


def test_a_loaded_job_changed_in_code_is_checked_again(tmp_path: Path):
    """dataclasses.replace of a loaded (pre-checked) job is validated again by check_jobs."""
    (loaded,) = load_jobs(write_jsonl(tmp_path / "jobs.jsonl", [job("a")]))
    assert check_jobs([loaded]) == [loaded]
    broken = dataclasses.replace(loaded, key=" ")
    with pytest.raises(JobFileError, match="key"):
        check_jobs([broken])
    with pytest.raises(dataclasses.FrozenInstanceError):
        loaded.key = "b"  # type: ignore[misc]


@pytest.mark.parametrize("line", ["[" * 100_000, '{"key": "a", "moments": ' + "[" * 100_000])
def test_deeply_nested_json_is_a_job_file_error(tmp_path: Path, line: str):
    """100,000 nested `[` on a line: JobFileError on that line, not RecursionError."""
    path = write_jsonl(tmp_path / "jobs.jsonl", [job("a"), line])
    with pytest.raises(JobFileError) as caught:
        load_jobs(path)
    assert [(p.line, p.field) for p in caught.value.problems] == [(2, "$")]
    assert "nested too deeply" in str(caught.value)


def test_a_deeply_nested_job_built_in_code_is_a_job_file_error():
    """A job form nested past Python's recursion limit is refused with JobFileError."""
    deep: object = "x"
    for _ in range(100_000):
        deep = {"zoom": deep}
    with pytest.raises(JobFileError):
        Job.from_dict(job(subtitles=deep))
    with pytest.raises(JobFileError):
        check_jobs([Job("a", "A", (deep,))])  # type: ignore[arg-type]


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_MOMENT = st.fixed_dictionaries(
    {"avatarId": st.sampled_from([AVATAR, "", 5])},
    optional={
        "transcript": st.text(max_size=5) | _ANY,
        "audioUrl": st.sampled_from(["https://x.test/a.mp3", "nope", None]),
        "broll": _ANY
        | st.fixed_dictionaries({"url": st.sampled_from(["https://x.test/b.png", "x"])}),
        "zoom": _ANY,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    moments=st.lists(_MOMENT | _ANY, max_size=2).map(tuple) | _ANY,
    subtitles=_ANY,
    extras=st.dictionaries(st.text(max_size=3), _ANY, max_size=2) | _ANY,
    auto=_ANY,
)
def test_jobs_built_in_code_end_typed_or_in_job_file_error(
    moments: object, subtitles: object, extras: object, auto: object
):
    """Job(...) with any values: estimate_cost and check_jobs work or raise JobFileError."""
    built = Job(
        "k",
        "name",
        moments,
        subtitles,
        None,
        auto,
        None,
        extras,  # type: ignore[arg-type]
    )
    for use in (estimate_cost, check_jobs):
        with contextlib.suppress(JobFileError):
            use([built])


def test_estimate_cost_of_a_job_with_bad_moments_is_a_job_file_error():
    """The reported case: estimate_cost([Job(..., moments='x')]) raises JobFileError."""
    with pytest.raises(JobFileError, match="moments"):
        estimate_cost([Job("k", "name", "x")])  # type: ignore[arg-type]


def test_loaded_extras_are_a_read_only_mapping_equal_to_the_dict(tmp_path: Path):
    """A loaded job's extras compare equal to the file's dict, read like one, and pickle."""
    import pickle

    (loaded,) = load_jobs(write_jsonl(tmp_path / "jobs.jsonl", [job("a", extras={"c": "1"})]))
    assert loaded.extras == {"c": "1"}
    extras = loaded.extras
    assert (dict(extras), extras["c"], extras.get("x"), len(extras)) == ({"c": "1"}, "1", None, 1)
    assert pickle.loads(pickle.dumps(loaded)) == loaded
    assert loaded.create_arguments({})["extras"] == {"c": "1", JOB_KEY_EXTRA: "a"}
    with pytest.raises(TypeError):
        loaded.extras["c"] = "2"  # type: ignore[index]


@pytest.mark.parametrize("given", [{}, {"c": "1"}, {"c": "1", "d": "2", "e": ""}])
def test_extras_of_none_one_or_several_pairs_read_like_their_dict(given: dict[str, str]):
    """Extras of 0, 1 (held without a tuple) or more pairs: items, lookups, hash, repr, pickle."""
    import pickle

    from argil_async.batch._jobs import Extras

    extras = Extras(given)
    assert (dict(extras), list(extras), len(extras), repr(extras)) == (
        given,
        list(given),
        len(given),
        repr(given),
    )
    assert [extras[key] for key in given] == list(given.values())
    assert ("x" in extras, extras.get("x"), "c" in extras) == (False, None, bool(given))
    with pytest.raises(KeyError):
        extras["x"]
    assert extras == given
    assert hash(extras) == hash(Extras(dict(given)))
    assert pickle.loads(pickle.dumps(extras)) == extras


def test_loaded_jobs_stay_compact(tmp_path: Path):
    """A loaded one-moment job with one extra holds at most 620 bytes (tracemalloc; 598 on
    CPython 3.10 and 3.11, 565 on 3.13; 640 with the extras' tuple of before): a guard."""
    import tracemalloc

    count = 20_000  # enough that the interpreter's free lists of small tuples do not show
    rows = [
        job(f"job-{i:06d}", name=f"Video {i}", extras={"customer": str(i)}) for i in range(count)
    ]
    for row in rows:
        row["moments"][0]["transcript"] = f"Hello number {row['key']}!"
    path = write_jsonl(tmp_path / "jobs.jsonl", rows)
    load_jobs(path)  # first use: caches and decoders built outside the measure
    tracemalloc.start()
    try:
        jobs = load_jobs(path)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(jobs) == count
    assert held / count <= 620

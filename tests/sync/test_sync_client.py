"""The sync client against the simulator: the main flows, threads, notebooks, many lifecycles."""

from __future__ import annotations

import gc
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.openapi_check import OpenAPIChecker

from argil_async import APITimeoutError, Argil, Moment, NotFoundError, Page, Paginator, Timeout
from argil_async._sync._runtime import PORTAL_THREAD_NAME
from argil_async.testing import ArgilSimulator

# Each test runs with calls handed to the loop both ways (see conftest.hand_off).
pytestmark = pytest.mark.usefixtures("hand_off")

FAST = 0.02  # poll interval for waiters: the simulator finishes in a few tens of ms


@pytest.fixture
def sim(spec_checker: OpenAPIChecker) -> Iterator[ArgilSimulator]:
    """A simulator on its own thread, its traffic checked against the OpenAPI document."""
    with ArgilSimulator.in_thread() as sim:
        sim.on_exchange = spec_checker
        yield sim
    if spec_checker.failures:
        pytest.fail("traffic violated the OpenAPI document:\n" + spec_checker.report())


@pytest.fixture
def client(sim: ArgilSimulator) -> Iterator[Argil]:
    """A sync client for the simulator, closed after the test."""
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        yield client


def loop_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == PORTAL_THREAD_NAME]


def test_video_flow_create_render_wait_download(client: Argil, tmp_path: Path) -> None:
    """Create a video, render it, wait until DONE and download it, all without await."""
    avatar = client.avatars.list()[0]
    video = client.videos.create(
        name="Hello", moments=[Moment(avatar_id=avatar.id, transcript="Hi there!")]
    )
    assert video.status == "IDLE"
    client.videos.render(video.id)
    done = client.videos.wait_until_done(video.id, poll_interval=FAST, timeout=10)
    assert done.status == "DONE"
    assert done.video_url
    seen: list[tuple[int, int | None, int]] = []
    path = client.videos.download(
        done, tmp_path, progress=lambda got, total: seen.append((got, total, threading.get_ident()))
    )
    assert path.stat().st_size > 0
    assert seen
    assert {thread for *_, thread in seen} == {client._runtime.thread.ident}  # type: ignore[union-attr]
    assert done.id in [v.id for v in client.videos.list()]
    client.videos.delete(done.id)


def test_assets_upload_list_pages_and_delete(client: Argil) -> None:
    """Upload and wait for an asset, find it by iterating and by pages, then delete it."""
    asset = client.assets.upload(
        name="logo", type="IMAGE", url="https://cdn.example.test/logo.png", wait=False
    )
    ready = client.assets.wait_until_ready(asset.id, poll_interval=FAST, timeout=10)
    assert ready.status == "READY"
    listing = client.assets.list(type="IMAGE")
    assert isinstance(listing, Paginator)
    assert asset.id in [a.id for a in listing]
    pages = list(client.assets.list(page_size=2).pages())
    assert all(isinstance(page, Page) for page in pages)
    assert sum(len(page) for page in pages) == len(client.assets.list().to_list())
    client.assets.delete(asset.id)
    assert asset.id not in [a.id for a in client.assets.list(type="IMAGE")]


def test_subtitles_pages_follow_the_envelope(client: Argil) -> None:
    """The 15 stock subtitle styles come as pages of 10 and 5 with envelope metadata."""
    pages = list(client.subtitles.list().pages())
    assert [len(page) for page in pages] == [10, 5]
    assert pages[0].total_count == 15
    assert len(list(client.subtitles.list())) == 15


def test_voices_avatars_and_webhooks(client: Argil) -> None:
    """Lists, gets, and webhook create/update/delete behave as in the async client."""
    voice = client.voices.list(language="FRENCH")[0]
    assert client.voices.get(voice.id).id == voice.id
    avatar = client.avatars.get(client.avatars.list()[0].id)
    assert avatar.status == "IDLE"
    hook = client.webhooks.create(
        callback_url="https://hooks.example.test/argil", events=["VIDEO_GENERATION_SUCCESS"]
    )
    updated = client.webhooks.update(hook.id, events=["VIDEO_GENERATION_FAILED"])
    assert updated.id == hook.id
    assert hook.id in [h.id for h in client.webhooks.list()]
    client.webhooks.delete(hook.id)


def test_api_errors_reach_the_caller_unchanged(client: Argil) -> None:
    """An API error raised on the loop thread reaches the caller as the same exception type."""
    with pytest.raises(NotFoundError) as caught:
        client.videos.get("no-such-video")
    assert caught.value.status_code == 404


def test_progress_callback_calling_the_client_raises_a_clear_error(
    client: Argil, tmp_path: Path
) -> None:
    """A progress callback that calls the client (on the loop thread) raises, no deadlock."""
    avatar = client.avatars.list()[0]
    video = client.videos.create(name="x", moments=[{"avatarId": avatar.id, "transcript": "Hi"}])
    client.videos.render(video.id)
    done = client.videos.wait_until_done(video.id, poll_interval=FAST, timeout=10)
    with pytest.raises(RuntimeError, match="its own event-loop thread"):
        client.videos.download(done, tmp_path, progress=lambda *_: client.videos.get(done.id))


async def test_works_inside_a_running_event_loop(sim: ArgilSimulator) -> None:
    """Called from a coroutine (as in Jupyter), the client works and warns once that it blocks."""
    with Argil(api_key=sim.api_key, base_url=sim.base_url) as client:
        with pytest.warns(RuntimeWarning, match="running event loop"):
            avatars = client.avatars.list()
        assert avatars
        assert len(list(client.subtitles.list())) == 15


def test_eight_threads_share_one_client(client: Argil) -> None:
    """Eight threads calling one client at once all get correct answers, on one loop thread."""
    avatar_ids = [a.id for a in client.avatars.list()]
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(n: int) -> None:
        try:
            barrier.wait()
            for i in range(10):
                wanted = avatar_ids[(n + i) % len(avatar_ids)]
                assert client.avatars.get(wanted).id == wanted
                assert len(list(client.subtitles.list())) == 15
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(loop_threads()) == 1


@pytest.mark.slow
def test_200_lifecycles_leave_no_threads_and_no_resource_warnings(sim: ArgilSimulator) -> None:
    """200 create/use/close cycles (with, close(), and forgotten) leave no thread or warning."""
    before = {t.ident for t in threading.enumerate()}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(200):
            client = Argil(api_key=sim.api_key, base_url=sim.base_url)
            if i % 3 == 0:
                with client:
                    client.voices.list()
            elif i % 3 == 1:
                client.voices.list()
                client.close()
            else:
                client.voices.list()  # dropped unclosed: the finalizer closes it
            del client
        gc.collect()
        for thread in loop_threads():
            thread.join(timeout=5)
        gc.collect()
    assert [w for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert [str(w.message) for w in caught] == []
    assert {t.ident for t in threading.enumerate()} <= before


def test_listing_made_before_close_iterates_after_it_without_leaking(sim: ArgilSimulator) -> None:
    """A Paginator kept across close() runs on the client's new loop and leaves no session open."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = Argil(api_key=sim.api_key, base_url=sim.base_url)
        listing = client.subtitles.list()
        assert len(listing.to_list()) == 15
        client.close()
        assert len(list(listing)) == 15
        assert len(listing.fetch_page(2)) == 5
        client.close()
        del client, listing
        gc.collect()
    assert [str(w.message) for w in caught] == []


def test_deprecated_method_still_warns(client: Argil) -> None:
    """avatars.create_from_video emits its DeprecationWarning through the sync client too."""
    with pytest.warns(DeprecationWarning, match="deprecated"):
        avatar = client.avatars.create_from_video(
            name="Old way",
            dataset_video_url="https://cdn.example.test/train.mp4",
            consent_video_url="https://cdn.example.test/consent.mp4",
        )
    assert avatar.id


def test_deprecation_is_raised_in_the_callers_thread_at_the_callers_line(client: Argil) -> None:
    """The sync twin warns in the calling thread, attributed to the caller's file."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client.avatars.create_from_video(
            name="Old way",
            dataset_video_url="https://cdn.example.test/train.mp4",
            consent_video_url="https://cdn.example.test/consent.mp4",
        )
    ours = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert ours
    assert ours[0].filename == __file__


def test_download_timeout_covers_the_file(tmp_path: Path) -> None:
    """The sync download's per-call timeout stops a stalled file: APITimeoutError, no file."""
    with (
        ArgilSimulator.in_thread(stall_download_after=1, video_file_size=100_000) as sim,
        Argil(api_key=sim.api_key, base_url=sim.base_url) as client,
    ):
        avatar = client.avatars.list()[0]
        moment = Moment(avatar_id=avatar.id, transcript="Hi there!")
        video = client.videos.create(name="Stalled", moments=[moment])
        client.videos.render(video.id)
        done = client.videos.wait_until_done(video.id, poll_interval=FAST, timeout=10)
        with pytest.raises(APITimeoutError):
            client.videos.download(done, tmp_path, timeout=Timeout(total=0.5))
    assert list(tmp_path.iterdir()) == []


def test_simulator_client_follows_hand_off(client: Argil, hand_off: str) -> None:
    """The simulator-bound client is made after hand_off chose the path its calls take."""
    assert len(client.avatars.list()) > 0
    if hand_off == "call_soon_threadsafe":
        assert client._runtime._started().wake is None

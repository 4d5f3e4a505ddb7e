"""verify_signature against the standardwebhooks reference: the same accept/refuse decisions.

Each case is a delivery built the way a sender (honest, sloppy or hostile) might: a timestamp
spelled in any way ``float`` or a person might write it, a signature over the raw or the
normalised timestamp, signature lists with odd separators, padding and base64 spellings. The
reference library decides; ``verify_signature`` must decide the same, and refuse only with
``WebhookSignatureError``. Timestamps stay well clear of the 5-minute edges, so the two clocks
(read a few microseconds apart) cannot disagree.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import time

import aiohttp
import pytest
import standardwebhooks
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.datastructures import Headers as StarletteHeaders

from argil_async.errors import WebhookSignatureError
from argil_async.events import WebhookReceiver, verify_signature

KEYS = [b"0123456789abcdef0123456789abcdef", b"k", bytes(range(40))]
SECRETS = ["whsec_" + base64.b64encode(key).decode() for key in KEYS]

# Offsets from now, in seconds: inside the tolerance or clearly outside it.
offsets = st.one_of(
    st.floats(-290, 290, allow_nan=False),
    st.floats(-290, 290, allow_nan=False),
    st.floats(-290, 290, allow_nan=False),
    st.floats(-290, 290, allow_nan=False),
    st.floats(320, 10**7, allow_nan=False),
    st.floats(-(10**7), -320, allow_nan=False),
)


def usually(draw: st.DrawFn, plain: object, odd: list[object]) -> object:
    """``plain`` five times in six, else one of ``odd`` (so both decisions are common)."""
    return draw(st.sampled_from([*([plain] * 5 * len(odd)), *odd]))


def spellings(stamp: float) -> list[str]:
    """Odd ways to write ``stamp`` in a header: signed, padded, fractional, junk."""
    whole = math.floor(stamp)
    text = str(whole)
    return [
        f"+{text}",
        f"{text}.0",
        f" {text}",
        f"{text} ",
        f"\t{text}",
        f"0{text}",
        f"00{text}",
        f"{stamp!r}",
        f"{whole}.9999999",
        f"{whole}.5",
        f"{text}e0",
        f"{whole / 10}e1",
        text[:3] + "_" + text[3:],
        "".join(chr(0x0660 + int(d)) if d.isdigit() else d for d in text),  # Arabic digits
        f"-{text}",
        f"{text}x",
        f"0x{whole:x}",
        f"{text}\n",
        "nan",
        "inf",
        "1" * 40,
        "",
        " ",
    ]


def mac(key: bytes, msg_id: bytes, stamp: str, body: bytes) -> bytes:
    return hmac.new(key, b"%s.%s.%s" % (msg_id, stamp.encode(), body), hashlib.sha256).digest()


def respell(digest: bytes, how: str) -> str:
    """The base64 of ``digest`` as written by a careful or a careless sender."""
    text = base64.b64encode(digest).decode()
    if how == "unpadded":
        return text.rstrip("=")
    if how == "noncanonical":  # same bytes, but the unused low bits of the last digit set
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        last = alphabet.index(text[42])
        return text[:42] + alphabet[last | 0b11] + text[43:]
    if how == "urlsafe":
        return base64.urlsafe_b64encode(digest).decode()
    if how == "extra_padding":
        return text + "=="
    return text


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[int, bytes | str, dict[str, str]]:
    secret_index = draw(st.integers(0, len(KEYS) - 1))
    stamp = time.time() + draw(offsets)
    stamp_text = str(usually(draw, str(math.floor(stamp)), list(spellings(stamp))))
    msg_id = draw(
        st.one_of(
            st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20),
            st.sampled_from(["msg_café", "msg_\u2603", "msg 1", "msg,1", "msg.1.2"]),
            st.text(min_size=0, max_size=12),
        )
    )
    body = draw(st.one_of(st.binary(max_size=64), st.text(max_size=64)))
    raw_body = body.encode() if isinstance(body, str) else body
    try:  # what was signed: the normalised whole seconds (as the reference), or the raw text
        normal = str(math.floor(float(stamp_text)))
    except (ValueError, OverflowError):
        normal = stamp_text
    signed_stamp = str(usually(draw, normal, [stamp_text]))
    key = KEYS[int(str(usually(draw, secret_index, [(secret_index + 1) % len(KEYS)])))]
    digest = mac(key, msg_id.encode(), signed_stamp, raw_body)
    spelling = usually(draw, "canonical", ["unpadded", "noncanonical", "urlsafe", "extra_padding"])
    version = usually(draw, "v1", ["V1", "v2", "v1 ", ""])
    good = f"{version},{respell(digest, str(spelling))}"
    junk = draw(st.sampled_from(["v1,AAAA", "v2,abc", "garbage", "", "v1,"]))
    separator = usually(draw, " ", ["  ", "\t", ",", "\n", " \t"])
    listed = draw(
        st.sampled_from(
            [good, f"{junk}{separator}{good}", f"{good}{separator}{junk}", f" {good}", f"{good} "]
        )
    )
    headers = {"webhook-id": msg_id, "webhook-timestamp": stamp_text, "webhook-signature": listed}
    names = draw(st.sampled_from(["lower", "title", "upper"]))
    if names != "lower":
        headers = {getattr(name, names)(): value for name, value in headers.items()}
    return secret_index, body, headers


def reference_accepts(secret: str, body: bytes | str, headers: dict[str, str]) -> bool:
    try:
        standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False)
    except Exception:  # the reference raises several types (UnicodeEncodeError too): a refusal
        return False
    return True


def ours_accepts(secret: str, body: bytes | str, headers: dict[str, str]) -> bool:
    try:
        verify_signature(body, headers, secret)
    except WebhookSignatureError:
        return False
    return True


differential = settings(
    max_examples=1000, suppress_health_check=[HealthCheck.too_slow], deadline=None
)


@differential
@given(case=deliveries())
def test_verify_signature_decides_like_the_reference(case: tuple[int, bytes | str, dict[str, str]]):
    """On 1,000 generated deliveries, verify_signature accepts exactly what the reference does."""
    secret_index, body, headers = case
    secret = SECRETS[secret_index]
    expected = reference_accepts(secret, body, headers)
    event("accepted" if expected else "refused")
    assert ours_accepts(secret, body, headers) is expected, headers


@pytest.mark.parametrize(
    ("spelling", "accepted"),
    [
        ("+{ts}", True),
        ("{ts}.0", True),
        (" {ts}", True),
        ("{ts}\t", True),
        ("0{ts}", True),
        ("{ts}x", False),
        ("0x10", False),
    ],
)
def test_timestamp_spellings_from_the_issue(spelling: str, accepted: bool):
    """The issue's cases: +ts, ts.0 and ' ts' pass (signed as whole seconds); junk is refused."""
    stamp = str(int(time.time()))
    body = b'{"event": "x"}'
    digest = base64.b64encode(mac(KEYS[0], b"msg_1", stamp, body)).decode()
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": spelling.format(ts=stamp),
        "webhook-signature": f"v1,{digest}",
    }
    assert reference_accepts(SECRETS[0], body, headers) is accepted
    assert ours_accepts(SECRETS[0], body, headers) is accepted


@pytest.mark.parametrize("how", ["unpadded", "noncanonical", "zero-padded", "tab"])
def test_sloppy_signatures_from_the_issue_are_refused(how: str):
    """Unpadded or non-canonical base64, tab separators and a signed zero-padded stamp: refused."""
    stamp = str(int(time.time()))
    body = b"{}"
    signed_stamp = "0" + stamp if how == "zero-padded" else stamp
    digest = mac(KEYS[0], b"msg_1", signed_stamp, body)
    entry = respell(digest, how) if how in ("unpadded", "noncanonical") else None
    listed = f"v1,{entry or base64.b64encode(digest).decode()}"
    if how == "tab":
        listed = f"v1,AAAA\t{listed}"
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": signed_stamp,
        "webhook-signature": listed,
    }
    assert reference_accepts(SECRETS[0], body, headers) is False
    with pytest.raises(WebhookSignatureError):
        verify_signature(body, headers, SECRETS[0])


async def test_non_ascii_webhook_id_in_raw_asgi_headers_is_accepted():
    """A signed delivery whose webhook-id is msg_café passes as str headers and as raw bytes."""
    body = b'{"event": "VIDEO_GENERATION_SUCCESS", "data": {"videoId": "v1"}}'
    stamp = str(int(time.time()))
    msg_id = "msg_café"
    signature = "v1," + base64.b64encode(mac(KEYS[0], msg_id.encode(), stamp, body)).decode()
    headers = {"webhook-id": msg_id, "webhook-timestamp": stamp, "webhook-signature": signature}
    assert reference_accepts(SECRETS[0], body, headers)
    receiver = WebhookReceiver(signing_secret=SECRETS[0])
    assert receiver.handle(body, headers=headers).video_id == "v1"
    raw = [(name.encode(), value.encode()) for name, value in headers.items()]
    assert receiver.handle(body, headers=raw).video_id == "v1"  # ASGI's byte pairs
    starlette = StarletteHeaders(raw=raw)  # request.headers in FastAPI: latin-1 str values
    assert receiver.handle(body, headers=starlette).video_id == "v1"
    assert receiver.received == 1  # one id, read the same way every time
    assert receiver.duplicates == 2
    async with receiver.serve() as url, aiohttp.ClientSession() as session:
        msg_id = "msg_naïve"  # aiohttp sends and parses header values as UTF-8
        digest = mac(KEYS[0], msg_id.encode(), stamp, body)
        headers = {**headers, "webhook-id": msg_id}
        headers["webhook-signature"] = "v1," + base64.b64encode(digest).decode()
        async with session.post(url, data=body, headers=headers) as response:
            assert response.status == 200
    assert receiver.received == 2  # a new webhook-id: a new delivery
    await receiver.aclose()

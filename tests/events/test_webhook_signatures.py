"""Standard Webhooks signatures: verify_signature against the reference implementation."""

from __future__ import annotations

import base64
import time
from datetime import datetime, timezone

import pytest
import standardwebhooks
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from argil_async.errors import InvalidRequestError, WebhookSignatureError
from argil_async.events import verify_signature
from argil_async.events._signatures import sign

SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()

secrets_ = st.binary(min_size=1, max_size=64).map(
    lambda raw: "whsec_" + base64.b64encode(raw).decode()
)
bodies = st.text(max_size=300)
ids = st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=40)
fuzz = settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)


def reference_headers(secret: str, msg_id: str, body: str, stamp: int) -> dict[str, str]:
    when = datetime.fromtimestamp(stamp, tz=timezone.utc)
    signature = standardwebhooks.Webhook(secret).sign(msg_id, when, body)
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": signature}


def our_headers(secret: str, msg_id: str, body: bytes, stamp: int) -> dict[str, str]:
    signature = sign(body, msg_id, str(stamp), secret)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(stamp),
        "webhook-signature": f"v1,{signature}",
    }


@fuzz
@given(secret=secrets_, msg_id=ids, body=bodies)
def test_reference_signatures_verify(secret: str, msg_id: str, body: str):
    """Whatever the reference implementation signs, verify_signature accepts."""
    headers = reference_headers(secret, msg_id, body, int(time.time()))
    verify_signature(body.encode(), headers, secret)


@fuzz
@given(secret=secrets_, msg_id=ids, body=bodies)
def test_our_signatures_pass_the_reference(secret: str, msg_id: str, body: str):
    """What the simulator signs with, the reference implementation verifies."""
    headers = our_headers(secret, msg_id, body.encode(), int(time.time()))
    assert standardwebhooks.Webhook(secret).verify(body, headers, json_parse=False) is None


@fuzz
@given(secret=secrets_, other=secrets_, msg_id=ids, body=bodies, tamper=st.integers(0, 3))
def test_wrong_secret_or_tampering_is_refused_by_both(
    secret: str, other: str, msg_id: str, body: str, tamper: int
):
    """A signature made with another key, or over other content, fails in both implementations."""
    stamp = int(time.time())
    headers = reference_headers(secret, msg_id, body, stamp)
    key, checked_body = secret, body
    if tamper == 0:
        assume(other != secret)
        key = other
    elif tamper == 1:
        checked_body = body + "x"
    elif tamper == 2:
        headers["webhook-id"] = msg_id + "x"
    else:
        headers["webhook-timestamp"] = str(stamp - 1)
    with pytest.raises(WebhookSignatureError):
        verify_signature(checked_body.encode(), headers, key)
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(key).verify(checked_body, headers, json_parse=False)


@pytest.mark.parametrize("offset", [-301, 301, -10_000, 10_000])
def test_timestamps_outside_five_minutes_are_refused(offset: int):
    """A delivery stamped more than 5 minutes before or after now is refused (replay bound)."""
    now = time.time()
    headers = our_headers(SECRET, "msg_1", b"{}", int(now) + offset)
    with pytest.raises(WebhookSignatureError, match="webhook-timestamp"):
        verify_signature(b"{}", headers, SECRET, now=now)


@pytest.mark.parametrize("offset", [-299, 0, 299])
def test_timestamps_within_five_minutes_pass(offset: int):
    """Clock skew up to 5 minutes either way is tolerated."""
    now = time.time()
    headers = our_headers(SECRET, "msg_1", b"{}", int(now) + offset)
    verify_signature(b"{}", headers, SECRET, now=now)


def test_any_listed_signature_may_match():
    """Several space-separated signatures (a key rotation) pass when one matches; others ignored."""
    headers = our_headers(SECRET, "msg_2", b"{}", int(time.time()))
    good = headers["webhook-signature"]
    headers["webhook-signature"] = f"v1,AAAA v2,{good[3:]} garbage {good}"
    verify_signature(b"{}", headers, SECRET)


def test_header_names_are_case_insensitive():
    """Headers spelled Webhook-Id etc. (as servers pass them) are found."""
    headers = our_headers(SECRET, "msg_3", b"{}", int(time.time()))
    verify_signature(b"{}", {k.title(): v for k, v in headers.items()}, SECRET)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("webhook-id", None),
        ("webhook-signature", None),
        ("webhook-timestamp", None),
        ("webhook-timestamp", "soon"),
        ("webhook-timestamp", "1" * 40),
        ("webhook-signature", "v1,not base64!"),
        ("webhook-signature", "v1"),
        ("webhook-signature", ""),
    ],
)
def test_malformed_headers_give_a_typed_error(header: str, value: str | None):
    """Missing or malformed signature headers raise WebhookSignatureError (a 401), never more."""
    headers = our_headers(SECRET, "msg_4", b"{}", int(time.time()))
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(b"{}", headers, SECRET)
    assert caught.value.status_code == 401


@pytest.mark.parametrize("secret", ["", "whsec_", "whsec_!!!", 5])
def test_a_malformed_secret_is_a_caller_error(secret: object):
    """A secret that is not whsec_<base64> is InvalidRequestError, not a refused delivery."""
    headers = our_headers(SECRET, "msg_5", b"{}", int(time.time()))
    with pytest.raises(InvalidRequestError, match="secret"):
        verify_signature(b"{}", headers, secret)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"tolerance": float("nan")}, "tolerance"),
        ({"tolerance": float("inf")}, "tolerance"),
        ({"tolerance": -1}, "tolerance"),
        ({"now": float("nan")}, "now"),
        ({"headers": [("webhook-id", "msg_6")]}, "headers"),
        ({"headers": None}, "headers"),
    ],
)
def test_bad_arguments_are_caller_errors_not_a_pass(arguments: dict[str, object], field: str):
    """A NaN tolerance or clock (which would accept any timestamp) or non-mapping headers raise."""
    stale = our_headers(SECRET, "msg_6", b"{}", int(time.time()) - 10**6)
    call = {"headers": stale, **arguments}
    with pytest.raises(InvalidRequestError) as caught:
        verify_signature(b"{}", secret=SECRET, **call)  # type: ignore[arg-type]
    assert caught.value.field == field

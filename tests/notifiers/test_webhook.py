"""WebhookNotifier through a real aiohttp client against the local webhook receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import socket
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import HttpUrl, SecretStr

from tests.fixtures import webhook_receiver as receiver_fixtures
from tests.fixtures.slack_api import sample_alert
from wirewatch import defaults
from wirewatch.notifiers import WebhookNotifier, build_notifier, verify_signature

# The `webhook_receiver` fixture, until tests/conftest.py exposes it with the other fixtures
# (harmless after that: the same fixture function).
webhook_receiver = receiver_fixtures.webhook_receiver

SECRET = "whsec-wirewatch-test"
ISO_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


def hook_config(url: str, **changes) -> SimpleNamespace:
    values = dict(name="siem", type="webhook", url=url, secret=SECRET, timeout=None)
    return SimpleNamespace(**{**values, **changes})


def independent_signature(secret: str, timestamp: str, body: bytes) -> str:
    """What the contract says, computed here without the notifier's code."""
    message = timestamp.encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


async def send(notifier, alert, thread_ref=None):
    try:
        return await notifier.send(alert, thread_ref)
    finally:
        await notifier.close()


async def test_new_story_payload_follows_the_contract(webhook_receiver):
    alert = sample_alert(outlets=("dawn", "geo"))
    before = int(time.time())

    result = await send(build_notifier(hook_config(webhook_receiver.url)), alert)

    assert result.ok, result.error
    [request] = webhook_receiver.requests
    assert request.method == "POST" and request.path == "/hook"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["Idempotency-Key"] == alert.delivery_id
    body = request.json()
    assert list(body) == [
        "version", "kind", "delivery_id", "sent_at", "watch", "story", "articles"
    ]  # fmt: skip
    assert body["version"] == 1 and body["kind"] == "new_story"
    assert body["delivery_id"] == "d-8f3a01" and body["watch"] == "balochistan-attacks"
    assert ISO_Z.fullmatch(body["sent_at"])
    sent_at = datetime.strptime(body["sent_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(sent_at.timestamp() - before) <= 2
    assert body["story"] == {
        "id": "s-3",
        "title": "Militants strike army camps in Quetta and Gwadar at once",
        "first_seen": "2026-11-24T07:05:31Z",
        "sources": 2,
        "regions": ["Balochistan"],
        "places": ["Quetta", "Gwadar"],
    }
    assert body["articles"][0] == {
        "id": "a-0",
        "url": "https://dawn.example.org/news/0",
        "title": "Militants strike army camps in Quetta and Gwadar at once",
        "outlet": "dawn",
        "published": "2026-11-24T07:05:00Z",
        "score": 0.71,
        "evidence": alert.articles[0].evidence,
    }
    assert [a["outlet"] for a in body["articles"]] == ["dawn", "geo"]


async def test_update_reports_only_the_new_articles(webhook_receiver):
    alert = sample_alert("story_update", outlets=("tribune",), known=2, delivery_id="d-2")

    result = await send(WebhookNotifier(hook_config(webhook_receiver.url)), alert, "s-3")

    assert result.ok
    body = webhook_receiver.requests[0].json()
    assert body["kind"] == "story_update" and body["delivery_id"] == "d-2"
    assert body["story"]["sources"] == 3
    assert [a["id"] for a in body["articles"]] == ["a-2"]


async def test_signature_verifies_with_an_independent_hmac(webhook_receiver):
    await send(WebhookNotifier(hook_config(webhook_receiver.url)), sample_alert())

    [request] = webhook_receiver.requests
    timestamp = request.headers["X-Wirewatch-Timestamp"]
    assert timestamp.isdigit() and abs(int(timestamp) - time.time()) < 5
    signature = request.headers["X-Wirewatch-Signature"]
    assert signature == independent_signature(SECRET, timestamp, request.body)
    assert verify_signature(SECRET, timestamp, request.body, signature)
    assert not verify_signature(SECRET, timestamp, request.body + b" ", signature)


async def test_pydantic_config_values_are_accepted(webhook_receiver):
    config = hook_config(HttpUrl(webhook_receiver.url), secret=SecretStr(SECRET), timeout=5.0)
    result = await send(build_notifier(config), sample_alert())

    assert result.ok, result.error
    [request] = webhook_receiver.requests
    timestamp = request.headers["X-Wirewatch-Timestamp"]
    assert request.headers["X-Wirewatch-Signature"] == independent_signature(
        SECRET, timestamp, request.body
    )


async def test_no_secret_no_signature(webhook_receiver):
    result = await send(WebhookNotifier(hook_config(webhook_receiver.url, secret=None)),
                        sample_alert())  # fmt: skip

    assert result.ok
    headers = webhook_receiver.requests[0].headers
    assert "X-Wirewatch-Signature" not in headers and "X-Wirewatch-Timestamp" not in headers
    assert headers["Idempotency-Key"] == "d-8f3a01"


async def test_retries_keep_the_same_delivery_id(webhook_receiver):
    webhook_receiver.fail_next(2, status=503)
    notifier = WebhookNotifier(hook_config(webhook_receiver.url))
    alert = sample_alert()
    try:
        results = [await notifier.send(alert, None) for _ in range(3)]
    finally:
        await notifier.close()

    assert [r.ok for r in results] == [False, False, True]
    assert all(r.retryable for r in results[:2])
    assert [r.status for r in webhook_receiver.requests] == [503, 503, 200]
    bodies = [r.json() for r in webhook_receiver.requests]
    assert {b["delivery_id"] for b in bodies} == {alert.delivery_id}
    assert {r.headers["Idempotency-Key"] for r in webhook_receiver.requests} == {"d-8f3a01"}
    for request in webhook_receiver.requests:  # each attempt is signed afresh
        stamp = request.headers["X-Wirewatch-Timestamp"]
        assert verify_signature(
            SECRET, stamp, request.body, request.headers["X-Wirewatch-Signature"]
        )


async def test_429_with_retry_after_is_retryable(webhook_receiver):
    webhook_receiver.respond_next(status=429, retry_after=42, body="slow down")

    result = await send(WebhookNotifier(hook_config(webhook_receiver.url)), sample_alert())

    assert not result.ok and result.retryable
    assert result.retry_after == 42
    assert "HTTP 429 Too Many Requests: slow down" in result.error


async def test_503_with_http_date_retry_after(webhook_receiver):
    from email.utils import formatdate

    webhook_receiver.respond_next(status=503, retry_after=formatdate(time.time() + 60, usegmt=True))

    result = await send(WebhookNotifier(hook_config(webhook_receiver.url)), sample_alert())

    assert not result.ok and result.retryable
    assert 55 <= result.retry_after <= 61


async def test_400_is_permanent_with_the_receivers_words(webhook_receiver):
    webhook_receiver.respond_next(status=400, body='{"error": "unknown field kind"}')

    result = await send(WebhookNotifier(hook_config(webhook_receiver.url)), sample_alert())

    assert not result.ok and not result.retryable
    assert "HTTP 400 Bad Request" in result.error and "unknown field kind" in result.error


async def test_huge_error_body_is_cut(webhook_receiver):
    webhook_receiver.respond_next(status=500, body="<html>" + "x" * 100_000)

    result = await send(WebhookNotifier(hook_config(webhook_receiver.url)), sample_alert())

    assert result.retryable
    assert len(result.error) < defaults.HTTP_ERROR_DETAIL_CHARS + 150


async def test_redirect_is_not_followed(webhook_receiver):
    webhook_receiver.respond_next(status=302, headers={"Location": "http://127.0.0.1:1/elsewhere"})

    result = await send(WebhookNotifier(hook_config(webhook_receiver.url)), sample_alert())

    assert not result.ok and not result.retryable and "302" in result.error
    assert len(webhook_receiver.requests) == 1


async def test_slow_receiver_times_out_retryably(webhook_receiver):
    webhook_receiver.respond_next(delay=10)
    notifier = WebhookNotifier(hook_config(webhook_receiver.url, timeout=0.3))
    started = time.monotonic()

    result = await send(notifier, sample_alert())

    assert time.monotonic() - started < 3
    assert not result.ok and result.retryable
    host = webhook_receiver.url.removesuffix("/hook")  # the path is never shown
    assert result.error == f"could not reach {host}/…: timed out after 0.3 s"
    assert len(webhook_receiver.requests) == 1


async def test_unreachable_receiver_is_retryable_and_hides_path_and_query():
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/hook?token=s3cret"

    result = await send(WebhookNotifier(hook_config(url)), sample_alert())

    assert not result.ok and result.retryable
    assert result.error.startswith(f"could not reach http://127.0.0.1:{port}/…: ")
    assert "s3cret" not in result.error and "hook" not in result.error


async def test_session_is_reused_and_closed(webhook_receiver):
    notifier = WebhookNotifier(hook_config(webhook_receiver.url))
    assert (await notifier.send(sample_alert(), None)).ok
    session = notifier._session
    assert (await notifier.send(sample_alert(), None)).ok
    assert notifier._session is session

    await notifier.close()

    assert session.closed
    await notifier.close()  # twice is fine


def test_body_is_compact_utf8_json():
    notifier = WebhookNotifier(hook_config("https://siem.example.org/hook"))
    body, headers = notifier.request(sample_alert(title="Attaque à Niamey — 3 morts"), now=1.8e9)

    assert "Attaque à Niamey — 3 morts".encode() in body
    assert json.loads(body)["sent_at"] == "2027-01-15T08:00:00Z"
    assert headers["X-Wirewatch-Timestamp"] == "1800000000"


# ---- verify_signature ----------------------------------------------------------------------
BODY = b'{"version":1,"kind":"new_story"}'
STAMP = "1800000000"
GOOD = independent_signature(SECRET, STAMP, BODY)


def test_verify_accepts_a_valid_signature():
    assert verify_signature(SECRET, STAMP, BODY, GOOD, now=1_800_000_010)
    assert verify_signature(SECRET.encode(), STAMP.encode(), BODY.decode(), GOOD.encode(),
                            now=1_800_000_010)  # fmt: skip


@pytest.mark.parametrize(
    ("secret", "stamp", "body", "signature", "now"),
    [
        (SECRET, STAMP, BODY + b" ", GOOD, 1.8e9),  # tampered body
        (SECRET, STAMP, BODY.replace(b"new_story", b"story_update"), GOOD, 1.8e9),
        ("another-secret", STAMP, BODY, GOOD, 1.8e9),  # wrong secret
        (SECRET, "1800000001", BODY, GOOD, 1.8e9),  # timestamp changed after signing
        (SECRET, STAMP, BODY, GOOD, 1.8e9 + defaults.WEBHOOK_SIGNATURE_TOLERANCE_S + 1),  # stale
        (SECRET, STAMP, BODY, GOOD, 1.8e9 - defaults.WEBHOOK_SIGNATURE_TOLERANCE_S - 1),  # future
        (SECRET, "", BODY, GOOD, 1.8e9),
        (SECRET, "18e8", BODY, GOOD, 1.8e9),
        (SECRET, STAMP, BODY, GOOD.removeprefix("sha256="), 1.8e9),
        (SECRET, STAMP, BODY, "sha256=é", 1.8e9),  # non-ASCII does not raise
        (SECRET, STAMP, BODY, "", 1.8e9),
    ],
)
def test_verify_rejects(secret, stamp, body, signature, now):
    assert not verify_signature(secret, stamp, body, signature, now=now)


def test_verify_tolerance_is_adjustable():
    assert not verify_signature(SECRET, STAMP, BODY, GOOD, now=1.8e9 + 61, tolerance=60)
    assert verify_signature(SECRET, STAMP, BODY, GOOD, now=1.8e9 + 59, tolerance=60)


# ---- secrets in errors: the URL's path is a token (Discord, Teams, Zapier) ---------------------
TOKEN = "T0KEN-abcdef1234567890-in-the-path"


@pytest.mark.parametrize(
    "answer",
    [
        dict(status=500, body=f"no hook at /api/webhooks/42/{TOKEN}"),  # it even echoes the path
        dict(status=404, body=f"unknown webhook {TOKEN}"),
        dict(status=400, body="bad payload"),
        dict(status=503, body="x" * 190 + f" {TOKEN}"),  # the detail is cut inside the token
    ],
)
async def test_a_token_in_the_url_path_is_in_no_error(webhook_receiver, answer):
    webhook_receiver.respond_next(**answer)
    url = webhook_receiver.url_for(f"/api/webhooks/42/{TOKEN}")

    result = await send(WebhookNotifier(hook_config(url)), sample_alert())

    assert not result.ok and str(answer["status"]) in result.error
    assert TOKEN[:10] not in result.error and "webhooks/42" not in result.error
    assert result.error.startswith(f"http://127.0.0.1:{webhook_receiver.port}/… answered HTTP ")


async def test_a_refused_connection_names_only_the_host():
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    result = await send(
        WebhookNotifier(hook_config(f"http://127.0.0.1:{port}/api/webhooks/42/{TOKEN}")),
        sample_alert(),
    )

    assert not result.ok and result.retryable
    assert result.error.startswith(f"could not reach http://127.0.0.1:{port}/…: ")
    assert TOKEN not in result.error and "webhooks" not in result.error


# ---- verify_signature never raises -------------------------------------------------------------
def test_verify_refuses_a_huge_timestamp_instead_of_raising():
    # int() refuses strings of more than 4,300 digits: a receiver would answer 500
    for digits in (13, 4_300, 4_301, 100_000):
        assert not verify_signature(SECRET, "1" * digits, BODY, GOOD, now=1.8e9)


@pytest.mark.parametrize(
    ("secret", "stamp", "signature"),
    [
        ("", STAMP, independent_signature("", STAMP, BODY)),  # an unset secret verifies nothing
        (SECRET, "١٨٠٠٠٠٠٠٠٠", GOOD),  # digits, but not ASCII ones
        (SECRET, None, GOOD),  # a missing header
        (SECRET, STAMP, None),
        ("s\ud800", STAMP, GOOD),  # not encodable
        (SECRET, "18\ud8000", GOOD),
        (SECRET, STAMP, "sha256=\ud800"),
    ],
)
def test_verify_rejects_what_it_cannot_read(secret, stamp, signature):
    assert verify_signature(secret, stamp, BODY, signature, now=1.8e9) is False


# Any text, lone surrogates (not encodable) included; digits up to past int()'s 4,300.
_text = st.text(max_size=60) | st.text(st.characters(categories=["Cs", "Nd", "Ll"]), max_size=8)
_digits = st.text("0123456789", min_size=1, max_size=20) | st.integers(4_290, 4_400).map(
    lambda n: "1" * n
)
_headers = st.one_of(st.none(), _text, st.binary(max_size=60), _digits)


@settings(max_examples=300, deadline=None)
@given(
    secret=st.one_of(_text, st.binary(max_size=40)),
    stamp=_headers,
    body=st.one_of(st.binary(max_size=200), _text),
    signature=_headers,
    now=st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
    tolerance=st.floats(allow_nan=True, allow_infinity=True),
)
def test_verify_signature_never_raises(secret, stamp, body, signature, now, tolerance):
    result = verify_signature(secret, stamp, body, signature, now=now, tolerance=tolerance)
    assert result is True or result is False


@settings(max_examples=100, deadline=None)
@given(
    secret=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40),
    body=st.binary(max_size=500),
    stamp=st.integers(0, 10**11),
)
def test_verify_accepts_every_fresh_signature(secret, body, stamp):
    signature = independent_signature(secret, str(stamp), body)
    assert verify_signature(secret, str(stamp), body, signature, now=stamp + 1.5)

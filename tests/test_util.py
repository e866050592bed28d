"""The shared helpers: Retry-After as outlets and receivers send it, counted nouns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from wirewatch import defaults
from wirewatch.util import parse_retry_after, plural

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("0", 0.0),
        ("120", 120.0),
        (" 30 ", 30.0),
        ("1.5", 1.5),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        ("Tue, 24 Nov 2026 07:02:00 GMT", 120.0),
        ("Tuesday, 24-Nov-26 07:02:00 GMT", 120.0),  # RFC 850, still allowed by HTTP
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),  # in the past
        ("99999999", defaults.RETRY_AFTER_MAX_S),  # capped
        (format_datetime(NOW + timedelta(days=30), usegmt=True), defaults.RETRY_AFTER_MAX_S),
    ],
)
def test_retry_after_seconds_and_http_dates(value, seconds):
    assert parse_retry_after(value, now=NOW) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", [None, "", "soon", "-5", "inf", "nan", "1e3", "1_000", "0x10", "12 seconds", "Mon"]
)
def test_garbage_retry_after_is_ignored(value):
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_cap_is_the_callers():
    assert parse_retry_after("7200", cap=float("inf")) == 7200.0
    assert parse_retry_after("7200", cap=60.0) == 60.0


@pytest.mark.parametrize(("n", "text"), [(0, "0 sources"), (1, "1 source"), (2, "2 sources")])
def test_plural(n, text):
    assert plural(n, "source") == text

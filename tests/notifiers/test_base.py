"""The notifier interface, the shared HTTP status rules and `build_notifier`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from email.utils import format_datetime
from types import SimpleNamespace

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import HttpUrl, SecretStr

from wirewatch import defaults
from wirewatch.config.notifiers import NOTIFIER_TYPES
from wirewatch.notifiers import (
    DIGEST_TYPES,
    RECEIVERS,
    Notifier,
    SlackNotifier,
    SlackWebhookNotifier,
    TerminalNotifier,
    WebhookNotifier,
    build_notifier,
    classify_http_status,
)
from wirewatch.notifiers.base import (
    connection_failure,
    describe_url,
    header,
    hide_url,
    secret_value,
)

NOW = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_2xx_is_ok(status):
    result = classify_http_status(status, {})
    assert result.ok and result.error is None


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504, 599])
def test_408_429_and_5xx_are_retryable(status):
    result = classify_http_status(status, {"Retry-After": "12"})
    assert not result.ok and result.retryable
    assert result.retry_after == 12
    assert result.error.startswith(f"HTTP {status} ")


@pytest.mark.parametrize("status", [400, 410, 413, 422, 301, 302, 100])
def test_other_statuses_are_permanent_and_readable(status):
    result = classify_http_status(status, {"Retry-After": "12"}, detail="invalid_payload")
    assert not result.ok and not result.retryable and result.retry_after is None
    assert result.error.startswith(f"HTTP {status} ")
    assert result.error.endswith(": invalid_payload")


@pytest.mark.parametrize("status", [401, 403, 404])
def test_auth_and_not_found_wait_for_the_operator_instead_of_dead_lettering(status):
    """A wrong secret, token or URL: once the operator fixes it, the alerts must still go."""
    result = classify_http_status(status, {}, detail="bad signature")
    assert not result.ok and result.retryable
    assert result.error.startswith(f"HTTP {status} ") and "bad signature" in result.error
    assert "fix the notifier's config" in result.error


def test_error_names_the_status():
    assert classify_http_status(410, {}).error == "HTTP 410 Gone"
    assert classify_http_status(429, {}).error == "HTTP 429 Too Many Requests"
    assert classify_http_status(599, {}).error == "HTTP 599 unknown status"


def test_retry_after_header_name_is_case_insensitive_and_lists_unwrap():
    assert classify_http_status(503, {"retry-after": "3"}).retry_after == 3
    assert header({"RETRY-AFTER": ["4", "5"]}, "Retry-After") == "4"
    assert header({}, "Retry-After") is None


def test_retry_after_from_real_aiohttp_headers():
    from multidict import CIMultiDict, CIMultiDictProxy

    headers = CIMultiDictProxy(CIMultiDict([("retry-after", "9")]))
    assert classify_http_status(429, headers).retry_after == 9


@pytest.mark.parametrize(
    "value", [None, "", "soon", "-5", "inf", "nan", "1e3", "1_000", "0x10", "12 seconds", "Mon"]
)
def test_garbage_retry_after_is_ignored(value):
    assert classify_http_status(503, {"Retry-After": value or ""}).retry_after is None


@given(
    status=st.integers(100, 999),
    retry_after=st.one_of(
        st.none(),
        st.text(max_size=40),
        st.integers(-(10**12), 10**12).map(str),
        st.floats(allow_nan=True, allow_infinity=True).map(str),
        st.datetimes(timezones=st.just(UTC)).map(lambda d: format_datetime(d, usegmt=True)),
    ),
)
def test_any_status_and_header_gives_a_consistent_result(status, retry_after):
    headers = {} if retry_after is None else {"Retry-After": retry_after}
    result = classify_http_status(status, headers)
    assert result.ok == (200 <= status < 300)
    if not result.ok:
        assert result.error and str(status) in result.error
        assert result.retryable == (status in (401, 403, 404, 408, 429) or 500 <= status < 600)
    if result.retry_after is not None:
        assert result.retryable
        assert 0 <= result.retry_after <= defaults.RETRY_AFTER_MAX_S


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (
            aiohttp.ClientConnectorError(
                SimpleNamespace(ssl=None, host="h", port=1), OSError(111, "refused")
            ),
            "refused",
        ),
        (aiohttp.ServerDisconnectedError(), "Server disconnected"),
        (TimeoutError(), "timed out after 2.5 s"),
        (aiohttp.ServerTimeoutError("read"), "timed out after 2.5 s"),
        (ConnectionResetError(), "ConnectionResetError"),
    ],
)
def test_connection_errors_are_retryable(exc, words):
    result = connection_failure("the SIEM", exc, timeout=2.5)
    assert not result.ok and result.retryable
    assert result.error.startswith("could not reach the SIEM: ") and words in result.error


def test_secret_value_unwraps_secretstr_and_urls():
    assert secret_value("plain") == "plain"
    assert secret_value(SecretStr("hidden")) == "hidden"
    assert secret_value(None) is None
    assert secret_value(HttpUrl("https://siem.example.org/hook")) == "https://siem.example.org/hook"


def test_describe_url_leaves_out_path_query_and_credentials():
    # Discord, Teams, Zapier and Slack keep the token in the path: only the host is shown
    assert (
        describe_url("https://user:pw@siem.example.org:8443/hook?token=s3cret")
        == "https://siem.example.org:8443/…"
    )
    assert (
        describe_url("https://discord.com/api/webhooks/1234/T0KEN-abc") == "https://discord.com/…"
    )
    assert describe_url("https://siem.example.org/") == "https://siem.example.org"
    assert describe_url("not a url") == "the receiver"
    assert describe_url("https://[hooks.slack.com/services/T0/B0/x") == "the receiver"


def test_an_unreadable_url_is_not_repeated_by_its_connection_error():
    url = "https://[hooks.slack.com/services/T0/B0/s3cretT0ken"
    exc = aiohttp.InvalidUrlClientError(url)
    assert url in str(exc)  # what aiohttp says

    result = connection_failure("the Slack webhook", exc, url=url)

    assert result.retryable and "s3cretT0ken" not in result.error
    assert "not a valid URL" in result.error


@pytest.mark.parametrize(
    ("text", "url", "shown"),
    [
        (
            "https://discord.com/api/webhooks/1234/AbC-t0ken answered HTTP 500: oops",
            None,
            "https://discord.com/… answered HTTP 500: oops",
        ),
        (  # the receiver repeats the path, or the token alone
            "HTTP 404 Not Found: no hook /api/webhooks/1234/AbC-t0ken (AbC-t0ken)",
            "https://discord.com/api/webhooks/1234/AbC-t0ken",
            "HTTP 404 Not Found: no hook … (…)",
        ),
        (  # words of the path that are no token stay
            "the Slack webhook answered HTTP 404 Not Found: no_service",
            "https://hooks.slack.com/services/T0ABC/B0DEF/xyzSECRET99",
            "the Slack webhook answered HTTP 404 Not Found: no_service",
        ),
        ("see https://x.example/a?token=1.", None, "see https://x.example/…."),
    ],
)
def test_hide_url(text, url, shown):
    assert hide_url(text, url) == shown


def test_notifier_needs_send():
    with pytest.raises(TypeError):
        Notifier()  # type: ignore[abstract]

    class Minimal(Notifier):
        name = "m"

        async def send(self, alert, thread_ref):
            raise NotImplementedError

    assert asyncio.run(Minimal().close()) is None


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        (SimpleNamespace(name="s", type="slack", token="xoxb-1", channel="#c"), SlackNotifier),
        (
            SimpleNamespace(name="w", type="slack_webhook", url=SecretStr("https://h/s")),
            SlackWebhookNotifier,
        ),
        (
            SimpleNamespace(name="h", type="webhook", url="https://h/x", secret=None, timeout=None),
            WebhookNotifier,
        ),
        (SimpleNamespace(name="t", type="terminal"), TerminalNotifier),
    ],
)
def test_build_notifier_by_type(config, kind):
    notifier = build_notifier(config)
    assert isinstance(notifier, kind) and isinstance(notifier, Notifier)
    assert notifier.name == config.name


def test_build_notifier_rejects_email_and_unknown_types():
    with pytest.raises(ValueError, match="email digests"):
        build_notifier(SimpleNamespace(name="digest", type="email"))
    with pytest.raises(ValueError, match="unknown notifier type 'pager'"):
        build_notifier(SimpleNamespace(name="p", type="pager"))
    with pytest.raises(ValueError, match="unknown notifier type None"):
        build_notifier(SimpleNamespace(name="p"))


def test_every_configurable_notifier_type_has_a_receiver():
    """A type added to the config's one list must get a receiver (or be a digest), and no
    receiver may exist for a type the config cannot name."""
    assert set(RECEIVERS) | DIGEST_TYPES == set(NOTIFIER_TYPES)
    assert not set(RECEIVERS) & DIGEST_TYPES

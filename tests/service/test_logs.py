"""Log lines as an operator reads them: one JSON object (or text line) per event, no secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from tests.fixtures.configs import (
    config_yaml,
    email_notifier,
    slack_notifier,
    slack_webhook_notifier,
    webhook_notifier,
)
from wirewatch.config.loader import load_config_text
from wirewatch.service.logs import (
    JsonFormatter,
    RedactingFilter,
    Redactor,
    TextFormatter,
    config_secrets,
)

CONFIG = config_yaml(
    notifiers=[
        slack_notifier(token="xoxb-1111-2222-abcdefSECRET", channel="#soc"),
        slack_webhook_notifier("https://hooks.slack.com/services/T0/B0/hooksecret42", name="hook"),
        webhook_notifier("https://siem.example.org/hook", secret="hmac/key+with=odd&chars"),
        email_notifier(host="smtp.example.org", username="soc", password="correct horse battery"),
    ]
)
SECRETS = (
    "xoxb-1111-2222-abcdefSECRET",
    "https://hooks.slack.com/services/T0/B0/hooksecret42",
    "hmac/key+with=odd&chars",
    "correct horse battery",
)


@pytest.fixture
def capture():
    """A logger writing through the redacting filter: (logger, handler, buffer, redactor)."""
    redactor = Redactor()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.addFilter(RedactingFilter(redactor))
    logger = logging.getLogger("wirewatch.test-logs")
    logger.handlers, logger.propagate, logger.level = [handler], False, logging.DEBUG
    yield logger, handler, buffer, redactor
    logger.handlers = []


def test_every_configured_secret_is_found_in_the_config():
    config = load_config_text(CONFIG, filename="t.yaml")
    found = set(config_secrets(config))
    assert {"xoxb-1111-2222-abcdefSECRET", "correct horse battery"} <= found
    assert "https://hooks.slack.com/services/T0/B0/hooksecret42" in found
    assert "hmac/key+with=odd&chars" in found


def test_secrets_never_reach_a_json_line(capture):
    logger, handler, buffer, redactor = capture
    handler.setFormatter(JsonFormatter())
    redactor.set_secrets(config_secrets(load_config_text(CONFIG, filename="t.yaml")))

    logger.warning("posting with token %s", SECRETS[0], extra={"event": "x", "url": SECRETS[1]})
    logger.info("url-encoded: %s", "hmac%2Fkey%2Bwith%3Dodd%26chars")
    logger.info("POST /services/T0/B0/hooksecret42: 404")
    logger.info("login %r failed", {"password": SECRETS[3]})
    try:
        raise RuntimeError(f"SMTP said no to {SECRETS[3]}")
    except RuntimeError:
        logger.exception("digest failed")

    text = buffer.getvalue()
    for secret in SECRETS:
        assert secret not in text
    assert "hmac%2Fkey" not in text
    assert "hooksecret42" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert len(lines) == 5
    assert lines[0]["message"] == "posting with token ***"
    assert lines[0]["event"] == "x" and lines[0]["url"] == "***"
    assert lines[0]["level"] == "warning" and lines[0]["logger"] == "wirewatch.test-logs"
    assert "RuntimeError" in lines[4]["exception"] and "***" in lines[4]["exception"]


@pytest.mark.parametrize(
    ("leak", "shown"),
    [
        ("token xoxb-9-9-zzz from elsewhere", "token *** from elsewhere"),
        ("GET https://hooks.slack.com/services/T1/B2/c3d4 failed", "/services/*** failed"),
        ("Authorization: Bearer abc.def-ghi", "Authorization: Bearer ***"),
        ("feed https://reader:pa55@feeds.example.org/x", "https://reader:***@feeds.example.org"),
        ("GET /hook?token=t0psecret&x=1", "GET /hook?token=***&x=1"),
        ('{"password": "pw-in-json"}', '{"password": "***"}'),
    ],
)
def test_credentials_not_in_the_config_are_masked_by_their_shape(capture, leak, shown):
    logger, handler, buffer, _redactor = capture
    handler.setFormatter(TextFormatter())
    logger.info("%s", leak)
    assert shown in buffer.getvalue()


def test_config_problems_about_secret_fields_stay_readable(capture):
    logger, handler, buffer, _redactor = capture
    handler.setFormatter(TextFormatter())
    problem = "w.yaml:9: notifiers[2].secret: environment variable WEBHOOK_SECRET is not set"
    logger.error("%s", problem)
    assert problem in buffer.getvalue()


def test_a_hostile_headline_cannot_forge_a_text_log_line(capture):
    logger, handler, buffer, _redactor = capture
    handler.setFormatter(TextFormatter())
    logger.info("article %s", "Attack\n2026-01-01 00:00:00 ERROR wirewatch: forged\x1b[2J")
    lines = buffer.getvalue().splitlines()
    assert len(lines) == 1
    assert "Attack\\n2026-01-01" in lines[0] and "\\u001b[2J" in lines[0]


def test_json_lines_stay_one_line_whatever_the_text(capture):
    logger, handler, buffer, _redactor = capture
    handler.setFormatter(JsonFormatter())
    logger.info("line\u2028separator\nnewline — ünïcode")
    [line] = buffer.getvalue().splitlines()
    assert json.loads(line)["message"] == "line\u2028separator\nnewline — ünïcode"

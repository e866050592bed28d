"""Receivers of alerts: one module per notifier type, all behind `Notifier`."""

from __future__ import annotations

from typing import Any

from wirewatch.notifiers.base import Notifier, classify_http_status
from wirewatch.notifiers.slack import SlackNotifier
from wirewatch.notifiers.slack_webhook import SlackWebhookNotifier
from wirewatch.notifiers.terminal import TerminalNotifier
from wirewatch.notifiers.webhook import WebhookNotifier, verify_signature

NOTIFIER_TYPES: dict[str, type[Notifier]] = {
    "slack": SlackNotifier,
    "slack_webhook": SlackWebhookNotifier,
    "webhook": WebhookNotifier,
    "terminal": TerminalNotifier,
}

__all__ = [
    "NOTIFIER_TYPES",
    "Notifier",
    "SlackNotifier",
    "SlackWebhookNotifier",
    "TerminalNotifier",
    "WebhookNotifier",
    "build_notifier",
    "classify_http_status",
    "verify_signature",
]


def build_notifier(config: Any) -> Notifier:
    """The notifier for one `notifiers:` entry, chosen by its `type`."""
    kind = getattr(config, "type", None)
    if kind == "email":
        raise ValueError(
            f"notifier {config.name!r}: email digests are delivered by the digest scheduler, "
            "not as single alerts"
        )
    try:
        factory = NOTIFIER_TYPES[kind]  # type: ignore[index]
    except KeyError:
        known = ", ".join(sorted(NOTIFIER_TYPES))
        raise ValueError(f"unknown notifier type {kind!r} (known: {known}, email)") from None
    notifier = factory(config)
    notifier.dead_after_s = getattr(config, "dead_after", None)
    return notifier

"""Receivers of alerts: one module per notifier type, all behind `Notifier` (base.py).

The notifier types themselves are listed once, in config/notifiers.py; `RECEIVERS` says
which class delivers each type's single alerts. Email is the one type without one: its
alerts are gathered into digests (delivery/digest.py with notifiers/email.py).
"""

from __future__ import annotations

from wirewatch.config.notifiers import NOTIFIER_TYPES, NotifierModel
from wirewatch.notifiers.base import FindsDelivered, Notifier, classify_http_status
from wirewatch.notifiers.slack import SlackNotifier
from wirewatch.notifiers.slack_webhook import SlackWebhookNotifier
from wirewatch.notifiers.terminal import TerminalNotifier
from wirewatch.notifiers.webhook import WebhookNotifier, verify_signature

DIGEST_TYPES = frozenset({"email"})  # delivered as digests on a schedule, not one by one
RECEIVERS: dict[str, type[Notifier]] = {
    "slack": SlackNotifier,
    "slack_webhook": SlackWebhookNotifier,
    "webhook": WebhookNotifier,
    "terminal": TerminalNotifier,
}

__all__ = [
    "DIGEST_TYPES",
    "RECEIVERS",
    "FindsDelivered",
    "Notifier",
    "SlackNotifier",
    "SlackWebhookNotifier",
    "TerminalNotifier",
    "WebhookNotifier",
    "build_notifier",
    "classify_http_status",
    "is_digest",
    "verify_signature",
]


def is_digest(config: NotifierModel) -> bool:
    return getattr(config, "type", None) in DIGEST_TYPES


def build_notifier(config: NotifierModel) -> Notifier:
    """The notifier for one `notifiers:` entry, chosen by its `type`."""
    if is_digest(config):
        raise ValueError(
            f"notifier {config.name!r}: email digests are delivered by the digest scheduler, "
            "not as single alerts"
        )
    kind = getattr(config, "type", None)  # a config model, or any object shaped like one
    try:
        factory = RECEIVERS[kind]  # type: ignore[index]
    except KeyError:
        known = ", ".join(NOTIFIER_TYPES)
        raise ValueError(f"unknown notifier type {kind!r} (known: {known})") from None
    notifier = factory(config)  # type: ignore[arg-type]
    notifier.dead_after_s = getattr(config, "dead_after", None)
    return notifier

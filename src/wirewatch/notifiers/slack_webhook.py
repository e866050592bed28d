"""Slack through an incoming webhook: one JSON POST per alert.

Incoming webhooks cannot thread or edit, so an update is a message of its own
that says "Update:" and names the story. Slack answers `200 ok`, or a 4xx with a
short text such as `invalid_payload` or `no_service`; the status decides the result
(`classify_http_status`), and known error texts get a hint for the operator.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from wirewatch import defaults
from wirewatch.models import Alert, DeliveryResult
from wirewatch.notifiers.base import HttpNotifier, secret_value
from wirewatch.notifiers.slack import SlackMessage, story_message, update_message

RECEIVER = "the Slack webhook"  # the URL itself is a secret: never in messages or logs
# Slack's answers that need an operator, with what to do about them.
HINTS = {
    "invalid_payload": "Slack could not read the message",
    "invalid_token": "the webhook URL is wrong: replace it",
    "no_service": "the webhook was disabled or removed: create a new one",
    "no_service_id": "the webhook URL is incomplete",
    "no_team": "the webhook's workspace is gone",
    "team_disabled": "the webhook's workspace is disabled",
    "channel_not_found": "the webhook's channel is gone",
    "channel_is_archived": "the webhook's channel is archived",
    "action_prohibited": "a Slack admin blocks posting to the webhook's channel",
    "posting_to_general_channel_denied": "only admins may post to the webhook's channel",
}


def webhook_body(message: SlackMessage) -> bytes:
    payload = {
        "text": message.text,
        "blocks": message.blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }
    return json.dumps(payload, ensure_ascii=False).encode()


def with_hint(result: DeliveryResult) -> DeliveryResult:
    """`result` with a hint appended when its error names a known Slack webhook error."""
    if result.ok or not result.error:
        return result
    words = set(re.findall(r"[a-z_]+", result.error))
    hint = next((hint for code, hint in HINTS.items() if code in words), None)
    return replace(result, error=f"{result.error} ({hint})") if hint else result


class SlackWebhookNotifier(HttpNotifier):
    """Posts every alert as a message to one incoming webhook."""

    def __init__(self, config: Any) -> None:
        super().__init__(float(getattr(config, "timeout", None) or defaults.HTTP_TIMEOUT_S))
        self.name = config.name
        self.url = secret_value(config.url) or ""

    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult:
        if alert.kind == "story_update":
            message = update_message(alert.story, alert.articles, standalone=True)
        else:
            message = story_message(alert.story, alert.articles)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        result = await self.post(self.url, webhook_body(message), headers, receiver=RECEIVER)
        return with_hint(result)

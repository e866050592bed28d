"""A JSON POST per alert (the payload of CONTRACT.md), HMAC-signed when a secret is set."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from wirewatch import defaults
from wirewatch.models import Alert, DeliveryResult, Source
from wirewatch.notifiers.base import HttpNotifier, describe_url, secret_value
from wirewatch.notifiers.formatting import iso_utc

PAYLOAD_VERSION = 1
TIMESTAMP_HEADER = "X-Wirewatch-Timestamp"
SIGNATURE_HEADER = "X-Wirewatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def article_payload(source: Source) -> dict[str, Any]:
    return {
        "id": source.article_id,
        "url": source.url,
        "title": source.title,
        "outlet": source.outlet,
        "published": iso_utc(source.published),
        "score": round(source.score, 4),
        "evidence": source.evidence,
    }


def build_payload(alert: Alert, sent_at: datetime) -> dict[str, Any]:
    """The webhook body for one alert (version 1 of the contract)."""
    story = alert.story
    known = {s.article_id for s in story.sources}
    sources = len(known | {a.article_id for a in alert.articles})
    return {
        "version": PAYLOAD_VERSION,
        "kind": alert.kind,
        "delivery_id": alert.delivery_id,
        "sent_at": iso_utc(sent_at),
        "watch": alert.watch,
        "story": {
            "id": story.id,
            "title": story.title,
            "first_seen": iso_utc(story.first_seen),
            "sources": sources,
            "regions": list(story.regions),
            "places": list(story.places),
        },
        "articles": [article_payload(a) for a in alert.articles],
    }


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def sign(secret: str | bytes, timestamp: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`."""
    digest = hmac.new(_bytes(secret), _bytes(timestamp) + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify_signature(
    secret: str | bytes,
    timestamp: str | bytes | None,
    body: bytes | str,
    signature: str | bytes | None,
    *,
    now: float | None = None,
    tolerance: float = defaults.WEBHOOK_SIGNATURE_TOLERANCE_S,
) -> bool:
    """For receivers: True when `signature` is ours for this body and the timestamp is fresh.

    `timestamp` and `signature` are the `X-Wirewatch-Timestamp` and `X-Wirewatch-Signature`
    headers, `body` the raw request body (before any JSON parsing); `now` is unix seconds.
    It never raises: whatever a request carries (a missing header, a 4,000-digit
    timestamp, text that cannot be encoded), the answer is True or False. An empty secret
    verifies nothing. A fresh signature can still be replayed within `tolerance`:
    receivers drop repeats by the payload's `delivery_id` (docs/alerts.md).
    """
    try:
        key = _bytes(secret or b"")
        stamp = _bytes(timestamp or b"").strip()
        # ASCII digits only, and few of them: int() of a huge one is slow or refused
        if not key or not stamp.isdigit() or len(stamp) > defaults.WEBHOOK_TIMESTAMP_MAX_DIGITS:
            return False
        if not abs((time.time() if now is None else now) - int(stamp)) <= tolerance:
            return False  # too old, too new, or a NaN clock
        expected = sign(key, stamp.decode(), _bytes(body)).encode()
        return hmac.compare_digest(expected, _bytes(signature or b"").strip())
    except (AttributeError, TypeError, ValueError, OverflowError):  # not text; unencodable text
        return False


class WebhookNotifier(HttpNotifier):
    """POSTs each alert to one URL; the receiver's status decides ok / retry / give up."""

    def __init__(self, config: Any) -> None:
        super().__init__(float(getattr(config, "timeout", None) or defaults.HTTP_TIMEOUT_S))
        self.name = config.name
        self.url = str(secret_value(config.url))
        self.secret = secret_value(getattr(config, "secret", None)) or None

    def request(self, alert: Alert, now: float | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of the POST for `alert` (signed when there is a secret)."""
        now = time.time() if now is None else now
        payload = build_payload(alert, datetime.fromtimestamp(now, UTC))
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", IDEMPOTENCY_HEADER: alert.delivery_id}
        if self.secret:
            timestamp = str(int(now))
            headers[TIMESTAMP_HEADER] = timestamp
            headers[SIGNATURE_HEADER] = sign(self.secret, timestamp, body)
        return body, headers

    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult:
        body, headers = self.request(alert)
        return await self.post(self.url, body, headers, receiver=describe_url(self.url))

"""When a failed delivery is tried again, and when it becomes a dead letter.

Retry policy: exponential backoff with jitter from DELIVERY_RETRY_BASE_S, capped at
DELIVERY_RETRY_MAX_S (30 s), so that after an outage of any length the next attempt
comes at most 30 s after the receiver is back and its whole queue follows at once
(a receiver's longer Retry-After is honoured). Only the head of a failing queue is
retried, so a receiver that is down sees one request per 30 s, not a storm.
Receivers that refuse us for a reason an operator must fix (bad token, unknown
channel, 401/403/404) are retried like an outage: the alerts wait in the outbox
until the config is fixed. An alert is dead-lettered when the receiver rejects
that very alert (HTTP 400, Slack `invalid_blocks`), or when its deliveries have kept
failing for the notifier's `dead_after` (default 24 h); dead letters stay in the
outbox (`wirewatch outbox --status dead`, metric `wirewatch_outbox_dead`) until
`wirewatch outbox retry` requeues them.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from wirewatch import defaults
from wirewatch.util import doubling


def backoff_delay(attempts: int, retry_after: float | None) -> float:
    """Exponential backoff with jitter (half to all of the step), capped; the receiver's
    Retry-After wins if longer."""
    ceiling = doubling(defaults.DELIVERY_RETRY_BASE_S, attempts, defaults.DELIVERY_RETRY_MAX_S)
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


def failing_too_long(failing_since: datetime | None, now: datetime, dead_after_s: float) -> bool:
    """Deliveries that have kept failing for `dead_after_s` (since the first failure after
    the last success or requeue) are dead letters."""
    return now - (failing_since or now) >= timedelta(seconds=dead_after_s)


def dead_after(own: float | None, default: float = defaults.DELIVERY_DEAD_AFTER_S) -> float:
    """How long a notifier's deliveries may keep failing: its own `dead_after`, else the
    default."""
    return float(own) if own else default

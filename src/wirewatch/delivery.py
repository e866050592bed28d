"""The outbox worker: pending alerts -> notifier.send -> delivered, retried or dead-lettered.

Alerts were written to the outbox in the same transaction as the story that caused
them. Each notifier's alerts go out in the order they were written; when one
fails, the rest of that notifier's queue waits (an update must never overtake the
new-story message it threads under). Other notifiers are not held up.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Literal

from wirewatch import defaults
from wirewatch.models import Alert, DeliveryResult
from wirewatch.store import OutboxRow, Store, utcnow

log = logging.getLogger(__name__)

# "failed": retry later, and the rest of this notifier's queue waits behind it;
# "waiting": an update whose new-story message has not gone out yet.
Outcome = Literal["delivered", "dead", "failed", "waiting"]


class _Notifier:  # the part of notifiers.base.Notifier this module relies on
    name: str

    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult: ...


def backoff_delay(attempts: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, capped; the receiver's Retry-After wins if longer."""
    ceiling = min(defaults.DELIVERY_RETRY_MAX_S, defaults.DELIVERY_RETRY_BASE_S * 2**attempts)
    delay = random.uniform(ceiling / 2, ceiling)
    return max(delay, retry_after or 0.0)


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, _Notifier],
        *,
        clock: Callable[[], datetime] = utcnow,
        dead_after_s: float = defaults.DELIVERY_DEAD_AFTER_S,
        on_attempt: Callable[[str, Outcome], None] | None = None,
    ) -> None:
        self.store = store
        self.notifiers = dict(notifiers)
        self.clock = clock
        self.dead_after_s = dead_after_s
        self.on_attempt = on_attempt or (lambda notifier, outcome: None)
        self.last_errors: dict[str, str] = {}
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def deliver_due(self) -> int:
        """One pass over the outbox; returns how many alerts were delivered."""
        delivered = 0
        now = self.clock()
        for name, notifier in self.notifiers.items():
            for row in self.store.pending_deliveries(name):
                if row.next_attempt_at > now:
                    if row.attempts:  # backing off after a failure: keep the order, wait
                        break
                    continue  # in its grouping wait: later alerts may go first
                outcome = await self._deliver(notifier, row)
                if outcome != "waiting":
                    self.on_attempt(name, outcome)
                if outcome == "failed":  # the receiver is failing: the rest waits behind it
                    break
                delivered += outcome == "delivered"
        return delivered

    def pending(self) -> int:
        return sum(1 for row in self.store.pending_deliveries() if row.notifier in self.notifiers)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, waking on `wake()` or every DELIVERY_POLL_S."""
        while not stop.is_set():
            try:
                await self.deliver_due()
            except Exception:  # a bug in one pass must not stop delivery for good
                log.exception("delivery pass failed")
            self._wakeup.clear()
            waiters = [asyncio.ensure_future(e.wait()) for e in (stop, self._wakeup)]
            await asyncio.wait(
                waiters, timeout=defaults.DELIVERY_POLL_S, return_when=asyncio.FIRST_COMPLETED
            )
            for waiter in waiters:
                waiter.cancel()

    async def flush(self, timeout_s: float) -> bool:
        """Deliver what is due until nothing is pending or the time is up; True when empty."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while self.pending() and loop.time() < deadline:
            await self.deliver_due()
            if self.pending():
                await asyncio.sleep(min(0.2, max(0.0, deadline - loop.time())))
        return not self.pending()

    async def _deliver(self, notifier: _Notifier, row: OutboxRow) -> Outcome:
        """Try one alert."""
        alert = self._build_alert(row)
        if alert is None:
            self._fail(row, "the story or its articles are gone from the store", dead=True)
            return "dead"
        thread_ref = self.store.story_ref(row.story_id, row.notifier)
        if row.kind == "story_update" and thread_ref is None and self._has_pending_parent(row):
            return "waiting"
        try:
            result = await notifier.send(alert, thread_ref)
        except Exception as exc:  # a notifier bug: keep the alert, say what happened
            log.exception("notifier %s raised", row.notifier)
            result = DeliveryResult.failure(f"{type(exc).__name__}: {exc}", retryable=True)
        if result.ok:
            self.store.mark_delivered(
                row.delivery_id,
                remote_ref=result.remote_ref if row.kind == "new_story" else None,
                story_id=row.story_id,
                notifier=row.notifier,
            )
            self.last_errors.pop(row.notifier, None)
            return "delivered"
        dead = self._fail(
            row, result.error or "failed", dead=not result.retryable, retry_after=result.retry_after
        )
        return "dead" if dead else "failed"  # a dead alert does not hold up the queue

    def _fail(
        self, row: OutboxRow, error: str, *, dead: bool, retry_after: float | None = None
    ) -> bool:
        """Record a failed attempt; True when the alert is dead-lettered."""
        expired = self.clock() - row.created_at > timedelta(seconds=self.dead_after_s)
        dead = dead or expired
        delay = backoff_delay(row.attempts, retry_after)
        self.store.mark_attempt_failed(
            row.delivery_id,
            error=error,
            next_attempt_at=self.clock() + timedelta(seconds=delay),
            dead=dead,
        )
        self.last_errors[row.notifier] = error
        if dead:
            log.error("alert %s to %s dead-lettered: %s", row.delivery_id, row.notifier, error)
        else:
            log.warning(
                "alert %s to %s failed (attempt %d, next in %.0fs): %s",
                row.delivery_id,
                row.notifier,
                row.attempts + 1,
                delay,
                error,
            )
        return dead

    def _has_pending_parent(self, row: OutboxRow) -> bool:
        return any(
            r.kind == "new_story" and r.story_id == row.story_id
            for r in self.store.pending_deliveries(row.notifier)
        )

    def _build_alert(self, row: OutboxRow) -> Alert | None:
        return build_alert(self.store, row)


def build_alert(store: Store, row: OutboxRow) -> Alert | None:
    """The alert an outbox row stands for, or None when its story or articles are gone."""
    story = store.get_story(row.story_id)
    if story is None:
        return None
    articles = store.sources(row.story_id, row.article_ids)
    if not articles:
        return None
    return Alert(
        delivery_id=row.delivery_id,
        kind=row.kind,
        notifier=row.notifier,
        watch=story.watch,
        story=story,
        articles=articles,
        created_at=row.created_at,
    )

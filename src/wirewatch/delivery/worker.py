"""The outbox worker: pending alerts -> notifier.send -> delivered, retried or dead-lettered.

Alerts were written to the outbox in the same transaction as the story that caused
them. Each notifier's alerts go out in the order they were written; when one
fails, the rest of that notifier's queue waits (an update must never overtake the
new-story message it threads under). Notifiers are served side by side: a slow or
failing one holds up no other.

Several instances on one database (`claims` set) share the outbox row by row: each alert
is claimed (`OutboxRepository.claim_row`, `FOR UPDATE SKIP LOCKED`) by the instance about to
send it, and released by the mark that records the attempt; an alert another instance holds
is skipped, and one held by an instance that died is taken once its claim runs out (then,
like any interrupted send, it is first looked up at the receiver). Slack thread references
are in the database, so any instance continues any story's thread.

When to retry and when to give up is delivery/retry.py's.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from wirewatch import defaults
from wirewatch.alerts.silences import describe, silence_covering
from wirewatch.delivery.retry import backoff_delay, dead_after, failing_too_long
from wirewatch.models import Alert, DeliveryResult
from wirewatch.notifiers.base import FindsDelivered
from wirewatch.store import OutboxRow, Store
from wirewatch.util import plural, utcnow

log = logging.getLogger(__name__)

# "failed": retry later, and the rest of this notifier's queue waits behind it;
# "waiting": an update whose new-story message has not gone out yet;
# "silenced": not sent, a silence added after it was queued covers it.
Outcome = Literal["delivered", "dead", "failed", "waiting", "silenced"]


@dataclass(frozen=True)
class Claims:
    """This instance's name and how long an alert it claims stays its own."""

    holder: str
    claim_s: float = defaults.OUTBOX_CLAIM_S


class _Notifier(Protocol):  # the part of notifiers.base.Notifier this module relies on
    name: str
    dead_after_s: float | None

    async def send(self, alert: Alert, thread_ref: str | None) -> DeliveryResult: ...


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        notifiers: Mapping[str, _Notifier],
        *,
        clock: Callable[[], datetime] = utcnow,
        dead_after_s: float = defaults.DELIVERY_DEAD_AFTER_S,
        on_attempt: Callable[[str, Outcome], None] | None = None,
        claims: Claims | None = None,
    ) -> None:
        self.store = store
        self.notifiers = dict(notifiers)
        self.clock = clock
        self.dead_after_s = dead_after_s
        self.on_attempt = on_attempt or (lambda notifier, outcome: None)
        self.last_errors: dict[str, str] = {}
        self.claims = claims
        self._wakeup = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()

    async def deliver_due(self) -> int:
        """One pass over the outbox, every notifier side by side; how many were delivered.

        The pass ends only when every notifier's part has (a bug in one must not leave it
        running into the next pass, which would send its alert a second time)."""
        names = list(self.notifiers)
        results = await asyncio.gather(
            *(self._deliver_queue(name, self.notifiers[name]) for name in names),
            return_exceptions=True,
        )
        delivered = 0
        for name, result in zip(names, results, strict=True):
            if isinstance(result, BaseException):
                log.error("delivery to %s failed", name, exc_info=result)
            else:
                delivered += result
        return delivered

    async def _deliver_queue(self, name: str, notifier: _Notifier) -> int:
        """One notifier's due alerts in queue order, stopping at the first failure."""
        delivered = 0
        for row in self.store.outbox.pending(name):
            if row.next_attempt_at > self.clock():
                if row.attempts:  # backing off after a failure: keep the order, wait
                    break
                continue  # in its grouping wait: later alerts may go first
            claimed = self._claim(row)
            if claimed is None:  # another instance sends it, or has sent it
                continue
            if claimed.next_attempt_at > self.clock():  # another instance failed it meanwhile
                self._release(claimed)
                break
            outcome = await self._deliver(notifier, claimed)
            if outcome == "waiting":
                self._release(claimed)
            if outcome != "waiting":
                self.on_attempt(name, outcome)
            if outcome == "failed":  # the receiver is failing: the rest waits behind it
                break
            delivered += outcome == "delivered"
        return delivered

    def _claim(self, row: OutboxRow) -> OutboxRow | None:
        """The row to send, claimed for this instance (as it is now), or None when another
        instance holds it; the row as read when only this instance uses the database."""
        if self.claims is None:
            return row
        now = self.clock()
        until = now + timedelta(seconds=self.claims.claim_s)
        return self.store.outbox.claim_row(
            row.delivery_id, self.claims.holder, until=until, now=now
        )

    def _release(self, row: OutboxRow) -> None:
        if self.claims is not None:
            self.store.outbox.release(row.delivery_id, self.claims.holder)

    def pending(self) -> int:
        return sum(1 for row in self.store.outbox.pending() if row.notifier in self.notifiers)

    def dead(self) -> int:
        """Dead letters in the outbox (all notifiers): kept until requeued."""
        return self.store.outbox.counts()["dead"]

    def retry_now(self, notifiers: Iterable[str]) -> int:
        """Try the failing heads of these notifiers' queues at once instead of after their
        backoff (a reload fixed the token, say); alerts in their grouping wait keep waiting.
        How many were made due."""
        wanted = set(notifiers)
        ids = [
            r.delivery_id
            for r in self.store.outbox.pending()
            if r.notifier in wanted and r.attempts
        ]
        self.store.outbox.claim(ids, self.clock())
        self.wake()
        return len(ids)

    def dead_after(self, notifier: str) -> float:
        """How long this notifier's deliveries may keep failing before they are dead letters."""
        own = self.notifiers[notifier].dead_after_s if notifier in self.notifiers else None
        return dead_after(own, self.dead_after_s)

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
        if self._silenced(row, alert):
            return "silenced"
        thread_ref = self.store.outbox.story_ref(row.story_id, row.notifier)
        if row.kind == "story_update" and thread_ref is None and self._has_pending_parent(row):
            return "waiting"
        if row.sending_since is not None and await self._arrived_earlier(notifier, row, alert):
            return "delivered"
        self.store.outbox.mark_sending(
            row.delivery_id, now=self.clock()
        )  # committed before it goes
        try:
            result = await notifier.send(alert, thread_ref)
        except Exception as exc:  # a notifier bug: keep the alert, say what happened
            log.exception("notifier %s raised", row.notifier)
            result = DeliveryResult.failure(f"{type(exc).__name__}: {exc}", retryable=True)
        if result.ok:
            self._delivered(row, result)
            return "delivered"
        dead = self._fail(
            row, result.error or "failed", dead=not result.retryable, retry_after=result.retry_after
        )
        return "dead" if dead else "failed"  # a dead alert does not hold up the queue

    async def _arrived_earlier(self, notifier: _Notifier, row: OutboxRow, alert: Alert) -> bool:
        """An earlier attempt never ended (the process was killed while sending): ask the
        receiver whether that attempt arrived, so that it is not sent twice.

        Receivers that cannot tell (no `find_delivered`) get the alert again; webhook
        receivers drop the repeat by its `delivery_id`.
        """
        if not isinstance(notifier, FindsDelivered):
            log.warning(
                "alert %s to %s: an earlier attempt was interrupted; sending it again (the "
                "receiver may show it twice)",
                row.delivery_id,
                row.notifier,
                extra={"event": "alert.resent", "notifier": row.notifier},
            )
            return False
        thread_ref = self.store.outbox.story_ref(row.story_id, row.notifier)
        try:
            ref = await notifier.find_delivered(alert, thread_ref, row.sending_since)
        except Exception:
            log.exception("notifier %s: looking up an interrupted alert failed", row.notifier)
            ref = None
        if ref is None:
            return False
        log.info(
            "alert %s to %s had arrived before the interruption; not sent again",
            row.delivery_id,
            row.notifier,
            extra={"event": "alert.recovered", "notifier": row.notifier},
        )
        self._delivered(row, DeliveryResult.success(remote_ref=ref))
        return True

    def _delivered(self, row: OutboxRow, result: DeliveryResult) -> None:
        with self.store.transaction():
            self.store.outbox.mark_delivered(
                row.delivery_id,
                # the story's first message is its thread: the new story's, or, when that
                # one never got through (dead letter), the first update's (never replaced)
                remote_ref=result.remote_ref,
                story_id=row.story_id,
                notifier=row.notifier,
                now=self.clock(),
            )
            tries = f" after {plural(row.attempts + 1, 'attempt')}" if row.attempts else ""
            self._decide(row, "delivered", f"{row.kind} {row.delivery_id} delivered{tries}")
        if self.last_errors.pop(row.notifier, None) is not None:
            log.info("notifier %s delivers again", row.notifier)

    def _fail(
        self, row: OutboxRow, error: str, *, dead: bool, retry_after: float | None = None
    ) -> bool:
        """Record a failed attempt; True when the alert is dead-lettered."""
        now = self.clock()
        expired = failing_too_long(row.failing_since, now, self.dead_after(row.notifier))
        dead = dead or expired
        delay = backoff_delay(row.attempts, retry_after)
        with self.store.transaction():
            self.store.outbox.mark_attempt_failed(
                row.delivery_id,
                error=error,
                next_attempt_at=now + timedelta(seconds=delay),
                dead=dead,
                now=now,
            )
            if dead:
                why = "failing for too long" if expired else "refused by the receiver"
                self._decide(
                    row, "dead", f"{row.kind} {row.delivery_id} dead-lettered ({why}): {error}"
                )
            elif not row.attempts:
                self._decide(
                    row, "retry", f"{row.kind} {row.delivery_id} failed, will retry: {error}"
                )
        repeated = self.last_errors.get(row.notifier) == error
        self.last_errors[row.notifier] = error
        self._log_failure(row, error, dead=dead, delay=delay, repeated=repeated)
        return dead

    def _silenced(self, row: OutboxRow, alert: Alert) -> bool:
        """A silence added while the alert waited covers it: recorded, not sent."""
        silence = silence_covering(self.store, alert.watch, row.story_id, self.clock())
        if silence is None:
            return False
        with self.store.transaction():
            self.store.outbox.mark_silenced(row.delivery_id, now=self.clock())
            self._decide(
                row,
                "silenced",
                f"{row.kind} {row.delivery_id} not sent: {describe(silence)}",
            )
        return True

    def _decide(self, row: OutboxRow, decision: str, reason: str) -> None:
        self.store.decisions.record(
            decision=decision, reason=reason, story_id=row.story_id, notifier=row.notifier
        )

    @staticmethod
    def _log_failure(
        row: OutboxRow, error: str, *, dead: bool, delay: float, repeated: bool
    ) -> None:
        """Dead letters always; a failure once per new error (the same error every 30 s of a
        long outage goes to debug: /healthz and `wirewatch outbox` show it meanwhile)."""
        if dead:
            log.error(
                "alert %s to %s dead-lettered (kept in the outbox; `wirewatch outbox retry %s`"
                " sends it again): %s",
                row.delivery_id,
                row.notifier,
                row.delivery_id,
                error,
            )
            return
        log.log(
            logging.DEBUG if repeated else logging.WARNING,
            "alert %s to %s failed (attempt %d, next in %.0fs; it waits in the outbox): %s",
            row.delivery_id,
            row.notifier,
            row.attempts + 1,
            delay,
            error,
        )

    def _has_pending_parent(self, row: OutboxRow) -> bool:
        return any(
            r.kind == "new_story" and r.story_id == row.story_id
            for r in self.store.outbox.pending(row.notifier)
        )

    def _build_alert(self, row: OutboxRow) -> Alert | None:
        return build_alert(self.store, row)


def build_alert(store: Store, row: OutboxRow) -> Alert | None:
    """The alert an outbox row stands for, or None when its story or articles are gone."""
    story = store.stories.get(row.story_id)
    if story is None:
        return None
    articles = store.stories.sources(row.story_id, row.article_ids)
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

"""Email digests on a cron schedule: everything queued for a digest since the last one.

Alerts for an email notifier wait in the outbox like any other; at the digest's
scheduled time `DigestSender.send` takes every pending row for it, sends one
message, and marks them all delivered together. A digest therefore covers
exactly what was queued since the previous one, across restarts: rows are only
marked once the SMTP server accepted the message. A failed send leaves them
pending and asks to be tried again after a backoff (capped like every delivery, so
a digest held up by an SMTP outage goes out within DELIVERY_RETRY_MAX_S of its end);
rows that keep failing for the notifier's `dead_after` are dead-lettered, never
dropped.

Several instances on one database each schedule every digest; `claim` lets one of them
send each scheduled digest (`LeaseRepository.claim_digest`, keyed by the cron slot it is
for, not by when its job happened to run: a run late by up to the misfire grace keeps its
slot), and its retries stay with it.

Rows taken for a digest are first made due (`claim`), so that an article arriving
while the message is being sent cannot join a row that is about to be marked
delivered: it opens a new row, for the next digest.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from wirewatch import defaults
from wirewatch.alerts.silences import describe, silence_covering
from wirewatch.delivery.retry import backoff_delay, dead_after, failing_too_long
from wirewatch.delivery.worker import build_alert
from wirewatch.models import Alert
from wirewatch.notifiers.email import EmailDigestNotifier
from wirewatch.store import OutboxRow, Store
from wirewatch.util import utcnow

DIGEST_GRACE = timedelta(seconds=defaults.DIGEST_MISFIRE_GRACE_S)

log = logging.getLogger(__name__)


@dataclass
class DigestReport:
    notifier: str
    sent: bool
    alerts: int
    error: str | None = None
    retry_in_s: float | None = None  # set when a failed send should be tried again


class DigestSender:
    def __init__(
        self,
        store: Store,
        digests: dict[str, EmailDigestNotifier],
        *,
        clock: Callable[[], datetime] = utcnow,
        dead_after_s: float = defaults.DELIVERY_DEAD_AFTER_S,
    ) -> None:
        self.store = store
        self.digests = digests
        self.clock = clock
        self.dead_after_s = dead_after_s

    async def send(self, name: str) -> DigestReport:
        """Send the digest `name` now with everything pending for it."""
        digest = self.digests[name]
        now = self.clock()
        rows, alerts = self._pending(name)
        self.store.outbox.claim([row.delivery_id for row in rows], now)
        if not alerts and not digest.config.send_empty:
            log.info("digest %s: nothing new, not sent", name)
            return DigestReport(name, sent=False, alerts=0)
        message = digest.build_message(
            alerts, since=self.store.outbox.last_digest_at(name), now=now
        )
        result = await digest.send_message(message)
        if result.ok:
            self._delivered(name, rows, self.clock())
            log.info(
                "digest %s: sent %d alerts to %s", name, len(rows), ", ".join(digest.config.to)
            )
            return DigestReport(name, sent=True, alerts=len(rows))
        delay = self._failed(rows, result.error or "failed", result.retryable, result.retry_after)
        log.warning("digest %s: %s", name, result.error)
        return DigestReport(
            name, sent=False, alerts=len(rows), error=result.error, retry_in_s=delay
        )

    def _pending(self, name: str) -> tuple[list[OutboxRow], list[Alert]]:
        rows, alerts = [], []
        for row in self.store.outbox.pending(name):
            alert = build_alert(self.store, row)
            if alert is None:
                self._dead(row, "the story or its articles are gone from the store")
                continue
            if self._silenced(row, alert):
                continue
            rows.append(row)
            alerts.append(alert)
        return rows, alerts

    def _delivered(self, name: str, rows: list[OutboxRow], now: datetime) -> None:
        with self.store.transaction():
            for row in rows:
                self.store.outbox.mark_delivered(
                    row.delivery_id, remote_ref=None, story_id=row.story_id, notifier=name, now=now
                )
                self.store.decisions.record(
                    decision="sent",
                    reason=f"{row.kind} in email digest",
                    story_id=row.story_id,
                    notifier=name,
                )
            self.store.outbox.set_last_digest_at(name, now)

    def _failed(
        self, rows: list[OutboxRow], error: str, retryable: bool, retry_after: float | None
    ) -> float | None:
        """Record the failed attempt on every row; the delay before the next try, if any."""
        if not rows:  # an empty digest that failed: nothing to keep, the next one will do
            return None
        now = self.clock()
        name = rows[0].notifier
        attempts = max((row.attempts for row in rows), default=0) + 1
        delay = backoff_delay(attempts, retry_after)
        with self.store.transaction():
            for row in rows:
                dead = not retryable or failing_too_long(
                    row.failing_since, now, self.dead_after(name)
                )
                self.store.outbox.mark_attempt_failed(
                    row.delivery_id,
                    error=error,
                    next_attempt_at=now + timedelta(seconds=delay),
                    dead=dead,
                    now=now,
                )
                if dead:
                    self.store.decisions.record(
                        decision="dead",
                        reason=f"{row.kind} {row.delivery_id} dead-lettered: {error}",
                        story_id=row.story_id,
                        notifier=name,
                    )
        return delay if retryable and self.store.outbox.pending(name) else None

    def dead_after(self, name: str) -> float:
        return dead_after(getattr(self.digests[name].config, "dead_after", None), self.dead_after_s)

    def _silenced(self, row: OutboxRow, alert: Alert) -> bool:
        """A silence added while the alert waited for the digest covers it: left out."""
        silence = silence_covering(self.store, alert.watch, row.story_id, self.clock())
        if silence is None:
            return False
        with self.store.transaction():
            self.store.outbox.mark_silenced(row.delivery_id, now=self.clock())
            self.store.decisions.record(
                decision="silenced",
                reason=f"{row.kind} left out of the digest: {describe(silence)}",
                story_id=row.story_id,
                notifier=row.notifier,
            )
        return True

    def _dead(self, row: OutboxRow, error: str) -> None:
        self.store.outbox.mark_attempt_failed(
            row.delivery_id, error=error, next_attempt_at=self.clock(), dead=True
        )


class DigestScheduler:
    """One cron job per email digest; a failed send is retried after its backoff."""

    def __init__(
        self,
        sender: DigestSender,
        configs: list[Any],
        *,
        claim: Callable[[str, datetime], bool] | None = None,
    ) -> None:
        """`claim(name, due)`: True when this instance sends digest `name` due at `due`."""
        self.sender = sender
        self.configs = configs
        self.claim = claim
        self.scheduler = AsyncIOScheduler()
        self.reports: list[DigestReport] = []
        self.triggers = {
            c.name: CronTrigger.from_crontab(c.schedule, timezone=c.timezone) for c in configs
        }

    def start(self) -> None:
        for config in self.configs:
            self.scheduler.add_job(
                self._scheduled,
                self.triggers[config.name],
                args=[config.name],
                id=config.name,
                coalesce=True,
                misfire_grace_time=int(defaults.DIGEST_MISFIRE_GRACE_S),
                max_instances=1,
            )
        self.scheduler.start()

    def due(self, name: str, now: datetime) -> datetime:
        """The cron slot a run at `now` is for: the schedule's last time at or before `now`
        within the misfire grace (so instances whose jobs ran minutes apart agree), else
        `now`'s minute."""
        trigger = self.triggers[name]
        slot, when = None, trigger.get_next_fire_time(None, now - DIGEST_GRACE)
        while when is not None and when <= now:
            slot, when = when, trigger.get_next_fire_time(when, when + timedelta(seconds=1))
        return (slot or now).astimezone(UTC).replace(second=0, microsecond=0)

    async def _scheduled(self, name: str) -> None:
        """The cron job: send the digest, unless another instance has this one."""
        due = self.due(name, utcnow())
        if self.claim is not None and not self.claim(name, due):
            log.info("digest %s due %s: sent by another instance", name, due.isoformat())
            return
        await self._run(name)

    async def _run(self, name: str) -> None:
        try:
            report = await self.sender.send(name)
        except Exception:  # a bug must not stop later digests
            log.exception("digest %s failed", name)
            return
        self.reports.append(report)
        if report.retry_in_s is not None:
            when = utcnow() + timedelta(seconds=report.retry_in_s)
            self.scheduler.add_job(
                self._run,
                DateTrigger(when),
                args=[name],
                id=f"{name}:retry",
                replace_existing=True,
            )

    def next_run(self, name: str) -> datetime | None:
        job = self.scheduler.get_job(name)
        return job.next_run_time if job else None

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

"""The outbox: alerts queued in the story's transaction until their notifier delivers them,
the receivers' ids for each story (Slack thread `ts`), and when each digest last went out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wirewatch.store.db import Database, from_iso, iso
from wirewatch.util import utcnow


@dataclass
class OutboxRow:
    seq: int
    delivery_id: str
    notifier: str
    story_id: str
    kind: str
    article_ids: list[str]
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    status: str = "pending"
    last_error: str | None = None
    delivered_at: datetime | None = None
    failing_since: datetime | None = None  # first failed attempt since the last success/requeue
    sending_since: datetime | None = None  # an attempt began and never ended: it may have arrived
    claimed_by: str | None = None  # the instance sending it now (several on one database)


_UNCLAIMED = "claimed_by = NULL, claimed_until = NULL"


class OutboxRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def enqueue(
        self,
        *,
        delivery_id: str,
        notifier: str,
        story_id: str,
        kind: str,
        article_ids: list[str],
        not_before: datetime | None = None,
        now: datetime | None = None,
    ) -> None:
        now = now or utcnow()
        self.db.execute(
            "INSERT INTO outbox (delivery_id, notifier, story_id, kind, article_ids,"
            " next_attempt_at, created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING",
            (
                delivery_id,
                notifier,
                story_id,
                kind,
                json.dumps(article_ids),
                iso(max(now, not_before or now)),
                iso(now),
            ),
        )

    def waiting_alert(self, story_id: str, notifier: str, now: datetime) -> OutboxRow | None:
        """A queued alert for this story still in its grouping wait or update interval.

        New articles may join it. One that is due is not offered: the delivery worker may
        already be sending it, and an article added then would be marked delivered unsent.
        """
        row = self.db.execute(
            "SELECT * FROM outbox WHERE story_id = ? AND notifier = ? AND status = 'pending'"
            " AND attempts = 0 AND next_attempt_at > ? ORDER BY seq DESC LIMIT 1",
            (story_id, notifier, iso(now)),
        ).fetchone()
        return _outbox_row(row) if row else None

    def add_to_alert(self, delivery_id: str, article_ids: list[str]) -> None:
        row = self.db.execute(
            "SELECT article_ids FROM outbox WHERE delivery_id = ?", (delivery_id,)
        ).fetchone()
        merged = list(dict.fromkeys([*json.loads(row[0]), *article_ids]))
        self.db.execute(
            "UPDATE outbox SET article_ids = ? WHERE delivery_id = ?",
            (json.dumps(merged), delivery_id),
        )

    def last_alert_at(self, story_id: str, notifier: str) -> datetime | None:
        """When this story last went out (or is due to) through this notifier."""
        row = self.db.execute(
            "SELECT MAX(COALESCE(delivered_at, next_attempt_at)) FROM outbox"
            " WHERE story_id = ? AND notifier = ? AND status != 'dead'",
            (story_id, notifier),
        ).fetchone()
        return from_iso(row[0]) if row else None

    def pending(self, notifier: str | None = None) -> list[OutboxRow]:
        query = "SELECT * FROM outbox WHERE status = 'pending'"
        params: tuple = ()
        if notifier:
            query += " AND notifier = ?"
            params = (notifier,)
        return [_outbox_row(r) for r in self.db.execute(query + " ORDER BY seq", params)]

    def rows(self, status: str | None = None) -> list[OutboxRow]:
        query = "SELECT * FROM outbox" + (" WHERE status = ?" if status else "") + " ORDER BY seq"
        return [_outbox_row(r) for r in self.db.execute(query, (status,) if status else ())]

    def mark_delivered(
        self,
        delivery_id: str,
        *,
        remote_ref: str | None,
        story_id: str,
        notifier: str,
        now: datetime | None = None,
    ) -> None:
        """Delivered, and the receiver's id for the story (Slack `ts`) kept in the same commit."""
        with self.db.transaction():
            if remote_ref:
                self.db.execute(
                    "INSERT INTO story_refs VALUES (?,?,?) ON CONFLICT DO NOTHING",
                    (story_id, notifier, remote_ref),
                )
            self.db.execute(
                "UPDATE outbox SET status = 'delivered', delivered_at = ?, attempts = attempts + 1,"
                " last_error = NULL, failing_since = NULL, sending_since = NULL,"
                f" {_UNCLAIMED} WHERE delivery_id = ?",
                (iso(now or utcnow()), delivery_id),
            )

    def mark_sending(self, delivery_id: str, *, now: datetime | None = None) -> None:
        """Committed before each attempt: until the attempt is recorded as delivered or failed,
        the alert may or may not have reached the receiver."""
        self.db.execute(
            "UPDATE outbox SET sending_since = COALESCE(sending_since, ?) WHERE delivery_id = ?",
            (iso(now or utcnow()), delivery_id),
        )

    def mark_attempt_failed(
        self,
        delivery_id: str,
        *,
        error: str,
        next_attempt_at: datetime,
        dead: bool,
        now: datetime | None = None,
    ) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
            " status = ?, failing_since = COALESCE(failing_since, ?), sending_since = NULL,"
            f" {_UNCLAIMED} WHERE delivery_id = ?",
            (
                error,
                iso(next_attempt_at),
                "dead" if dead else "pending",
                iso(now or utcnow()),
                delivery_id,
            ),
        )

    def requeue(self, delivery_ids: Iterable[str], *, now: datetime | None = None) -> list[str]:
        """Put dead or pending deliveries back at the head of their queue, due now; the ids
        that were found (delivered ones are never sent again)."""
        when = iso(now or utcnow())
        found = []
        with self.db.transaction():
            for delivery_id in delivery_ids:
                cursor = self.db.execute(
                    "UPDATE outbox SET status = 'pending', next_attempt_at = ?,"
                    " failing_since = NULL WHERE delivery_id = ? AND status != 'delivered'",
                    (when, delivery_id),
                )
                if cursor.rowcount:
                    found.append(delivery_id)
        return found

    def claim(self, delivery_ids: Iterable[str], now: datetime) -> None:
        """Make pending deliveries due now, so that no new article joins them (see
        `waiting_alert`): they are about to be sent as they are."""
        self.db.executemany(
            "UPDATE outbox SET next_attempt_at = ? WHERE delivery_id = ? AND status = 'pending'"
            " AND next_attempt_at > ?",
            [(iso(now), delivery_id, iso(now)) for delivery_id in delivery_ids],
        )

    def claim_row(
        self, delivery_id: str, holder: str, *, until: datetime, now: datetime
    ) -> OutboxRow | None:
        """Claim one pending delivery for `holder` until `until` (several instances on one
        database): the row as it is now, or None when it is no longer pending or another
        instance's claim on it runs. Rows another instance is claiming this very moment are
        skipped, not waited for (`FOR UPDATE SKIP LOCKED`). The final marks (delivered,
        failed, silenced) release the claim; a dead instance's claim runs out."""
        with self.db.transaction():
            row = self.db.execute(
                "SELECT * FROM outbox WHERE delivery_id = ? AND status = 'pending'"
                " AND (claimed_by IS NULL OR claimed_by = ? OR claimed_until <= ?)"
                + self.db.for_update,
                (delivery_id, holder, iso(now)),
            ).fetchone()
            if row is None:
                return None
            self.db.execute(
                "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE delivery_id = ?",
                (holder, iso(until), delivery_id),
            )
        return _outbox_row(row)

    def release(self, delivery_id: str, holder: str) -> None:
        """Give a claimed row back untouched (it waits for something else first)."""
        self.db.execute(
            f"UPDATE outbox SET {_UNCLAIMED} WHERE delivery_id = ? AND claimed_by = ?",
            (delivery_id, holder),
        )

    def claims(self, now: datetime | None = None) -> dict[str, int]:
        """Instance → how many deliveries it is sending now."""
        rows = self.db.execute(
            "SELECT claimed_by, COUNT(*) FROM outbox WHERE claimed_by IS NOT NULL"
            " AND claimed_until > ? AND status = 'pending' GROUP BY claimed_by",
            (iso(now or utcnow()),),
        )
        return {r[0]: r[1] for r in rows}

    def mark_silenced(self, delivery_id: str, *, now: datetime | None = None) -> None:
        """Not sent: a silence added after the alert was queued covers it (final, like
        delivered)."""
        self.db.execute(
            "UPDATE outbox SET status = 'silenced', delivered_at = ?,"
            f" {_UNCLAIMED} WHERE delivery_id = ? AND status = 'pending'",
            (iso(now or utcnow()), delivery_id),
        )

    def counts(self) -> dict[str, int]:
        """Deliveries by status: pending, delivered, dead (and silenced, when any were)."""
        rows = self.db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        return {"pending": 0, "delivered": 0, "dead": 0, **{r[0]: r[1] for r in rows}}

    def of_story(self, story_id: str) -> list[OutboxRow]:
        """Every delivery of one story, all notifiers, in the order they were queued."""
        rows = self.db.execute("SELECT * FROM outbox WHERE story_id = ? ORDER BY seq", (story_id,))
        return [_outbox_row(r) for r in rows]

    def get(self, delivery_id: str) -> OutboxRow | None:
        row = self.db.execute(
            "SELECT * FROM outbox WHERE delivery_id = ?", (delivery_id,)
        ).fetchone()
        return _outbox_row(row) if row else None

    def story_ref(self, story_id: str, notifier: str) -> str | None:
        row = self.db.execute(
            "SELECT ref FROM story_refs WHERE story_id = ? AND notifier = ?", (story_id, notifier)
        ).fetchone()
        return row[0] if row else None

    def last_digest_at(self, notifier: str) -> datetime | None:
        row = self.db.execute(
            "SELECT last_sent_at FROM digests WHERE notifier = ?", (notifier,)
        ).fetchone()
        return from_iso(row[0]) if row else None

    def set_last_digest_at(self, notifier: str, at: datetime) -> None:
        self.db.execute(
            "INSERT INTO digests VALUES (?, ?) ON CONFLICT (notifier)"
            " DO UPDATE SET last_sent_at = excluded.last_sent_at",
            (notifier, iso(at)),
        )


def _outbox_row(r: Any) -> OutboxRow:
    return OutboxRow(
        seq=r["seq"],
        delivery_id=r["delivery_id"],
        notifier=r["notifier"],
        story_id=r["story_id"],
        kind=r["kind"],
        article_ids=json.loads(r["article_ids"]),
        attempts=r["attempts"],
        next_attempt_at=from_iso(r["next_attempt_at"]),
        created_at=from_iso(r["created_at"]),
        status=r["status"],
        last_error=r["last_error"],
        delivered_at=from_iso(r["delivered_at"]),
        failing_since=from_iso(r["failing_since"]),
        sending_since=from_iso(r["sending_since"]),
        claimed_by=r["claimed_by"],
    )

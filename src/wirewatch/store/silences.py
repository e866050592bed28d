"""Silences as stored: a watch or a story muted until a time (checked in alerts/silences.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from wirewatch.store.db import Database, from_iso, iso
from wirewatch.util import utcnow


@dataclass
class Silence:
    id: int
    watch: str | None
    story_id: str | None
    starts_at: datetime
    ends_at: datetime
    reason: str
    created_by: str | None = None


class SilenceRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        *,
        ends_at: datetime,
        reason: str,
        watch: str | None = None,
        story_id: str | None = None,
        created_by: str | None = None,
        now: datetime | None = None,
    ) -> int:
        if (watch is None) == (story_id is None):
            raise ValueError("a silence covers either one watch or one story")
        row = self.db.execute(
            "INSERT INTO silences (watch, story_id, starts_at, ends_at, reason, created_by)"
            " VALUES (?,?,?,?,?,?) RETURNING id",
            (watch, story_id, iso(now or utcnow()), iso(ends_at), reason, created_by),
        ).fetchone()
        return int(row[0])

    def all(self, *, active_at: datetime | None = None) -> list[Silence]:
        query = "SELECT * FROM silences"
        params: tuple = ()
        if active_at is not None:
            query += " WHERE starts_at <= ? AND ends_at > ?"
            params = (iso(active_at), iso(active_at))
        return [
            Silence(
                id=r["id"],
                watch=r["watch"],
                story_id=r["story_id"],
                starts_at=from_iso(r["starts_at"]),
                ends_at=from_iso(r["ends_at"]),
                reason=r["reason"],
                created_by=r["created_by"],
            )
            for r in self.db.execute(query + " ORDER BY id", params)
        ]

    def expire(self, silence_id: int) -> bool:
        cursor = self.db.execute(
            "UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?",
            (iso(utcnow()), silence_id, iso(utcnow())),
        )
        return cursor.rowcount > 0

"""The decisions log: every send/skip decision with its reason ("why did I get this?")."""

from __future__ import annotations

from wirewatch.store.db import Database, iso
from wirewatch.util import utcnow


class DecisionRepository:
    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        *,
        decision: str,
        reason: str,
        watch: str | None = None,
        story_id: str | None = None,
        article_id: str | None = None,
        notifier: str | None = None,
    ) -> None:
        """Every send/skip decision with its reason: the answer to "why did I get this?"."""
        self.db.execute(
            "INSERT INTO decisions (at, watch, story_id, article_id, notifier, decision, reason)"
            " VALUES (?,?,?,?,?,?,?)",
            (iso(utcnow()), watch, story_id, article_id, notifier, decision, reason),
        )

    def of(self, story_id: str | None = None, *, article_id: str | None = None) -> list[dict]:
        """Recorded decisions, oldest first: all, or those about one story and/or article."""
        where = [(c, v) for c, v in (("story_id", story_id), ("article_id", article_id)) if v]
        query = "SELECT * FROM decisions"
        if where:
            query += " WHERE " + " AND ".join(f"{c} = ?" for c, _ in where)
        rows = self.db.execute(query + " ORDER BY seq", tuple(v for _, v in where))
        return [dict(r) for r in rows]
